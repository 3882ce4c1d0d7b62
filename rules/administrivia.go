package rules

import (
	"bytes"
	"strings"

	"cloister/mailmsg"
)

// administriviaWords are the email command words: a short post that starts
// with one was probably meant for LIST-request.
var administriviaWords = map[string]bool{
	"subscribe": true, "unsubscribe": true, "join": true, "leave": true, "signoff": true,
	"help": true, "confirm": true, "who": true, "review": true, "info": true, "lists": true,
	"set": true, "remove": true, "approve": true, "reject": true,
}

// administriviaMaxLines bounds the body lines looked at: a longer text is a
// post, whatever its first word.
const administriviaMaxLines = 5

// Administrivia fires on a post that looks like an email command (its
// Subject is a command word, or it is a short plain-text body whose first
// line starts with one): it goes to the owners, not to the list.
type Administrivia struct{}

// Name implements Rule.
func (Administrivia) Name() string { return "administrivia" }

// Description implements Rule.
func (Administrivia) Description() string {
	return "the post looks like an email command meant for the -request address"
}

// Check implements Rule.
func (Administrivia) Check(p *Post) Result {
	subj := strings.Fields(strings.ToLower(mailmsg.DecodeHeader(p.Msg.Get("Subject"))))
	if len(subj) > 0 && len(subj) <= 3 {
		if w := strings.Trim(subj[0], ":"); administriviaWords[w] {
			return hit("the subject looks like the email command %q", w)
		}
	}
	ct := strings.ToLower(p.Msg.Get("Content-Type"))
	if ct != "" && !strings.HasPrefix(ct, "text/plain") {
		return miss
	}
	var lines []string
	for _, l := range bytes.Split(p.Msg.Body, []byte("\n")) {
		l = bytes.TrimSpace(l)
		if len(l) == 0 {
			continue
		}
		if len(lines) == administriviaMaxLines {
			return miss
		}
		lines = append(lines, string(l))
	}
	if len(lines) == 0 {
		return miss
	}
	words := strings.Fields(strings.ToLower(lines[0]))
	if len(words) <= 3 && administriviaWords[words[0]] {
		return hit("the body looks like the email command %q", words[0])
	}
	return miss
}
