package commands

import (
	"regexp"
	"strings"
)

// replyMarker matches one reply marker at the start of a subject, as the
// common clients write it (Re:, RE:, Aw:, Sv:, Antw:, with an optional
// count such as Re[2]:).
var replyMarker = regexp.MustCompile(`(?i)^(re|aw|sv|vs|antw|ref)(\[\d+\]|\(\d+\))?\s*:\s*`)

// replySubject returns the Subject of a reply to a message with subject:
// one "Re: " before it, however many reply markers it already starts with,
// so that answering "Re: Confirm: subscribe" gives "Re: Confirm: subscribe",
// not "Re: Re: Confirm: subscribe". An empty subject gives "".
func replySubject(subject string) string {
	s := strings.Join(strings.Fields(subject), " ")
	for {
		loc := replyMarker.FindStringIndex(s)
		if loc == nil {
			break
		}
		s = strings.TrimLeft(s[loc[1]:], " ")
	}
	if s == "" {
		return ""
	}
	return "Re: " + s
}
