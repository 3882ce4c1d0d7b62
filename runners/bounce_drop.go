package runners

import (
	"regexp"
	"strings"

	"cloister/lists"
	"cloister/mailmsg"
)

// bounceDropHeader returns the name of the first header field of a
// delivery report that matches the list's bounces_drop_on_headers
// (Header:regex pairs, case-insensitive), or "": such a report is dropped
// without being scored (after Schleuder's bounces_drop_on_headers, which
// keeps reports flagged as spam from disabling members).
func bounceDropHeader(list *lists.List, report []byte) string {
	pairs := strings.Fields(list.Settings.BouncesDropOnHeaders)
	if len(pairs) == 0 {
		return ""
	}
	msg, err := mailmsg.Parse(report)
	if err != nil {
		return ""
	}
	for _, pair := range pairs {
		name, pat, ok := strings.Cut(pair, ":")
		if !ok {
			continue
		}
		re, err := regexp.Compile(`(?i)` + pat)
		if err != nil {
			continue // settings are checked when set
		}
		for _, v := range msg.Values(name) {
			if re.MatchString(v) || re.MatchString(mailmsg.DecodeHeader(v)) {
				return name
			}
		}
	}
	return ""
}
