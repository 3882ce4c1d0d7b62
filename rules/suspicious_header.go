package rules

import (
	"regexp"
	"strings"

	"cloister/mailmsg"
)

// SuspiciousHeader fires on a post with a header field that matches one of
// the list's suspicious_headers (Header:regex pairs; the regex is matched
// against the field's value, raw and decoded, case-insensitively).
type SuspiciousHeader struct{}

// Name implements Rule.
func (SuspiciousHeader) Name() string { return "suspicious-header" }

// Description implements Rule.
func (SuspiciousHeader) Description() string {
	return "a header field matches one of the list's suspicious_headers"
}

// Check implements Rule.
func (SuspiciousHeader) Check(p *Post) Result {
	for _, pair := range strings.Fields(p.List.Settings.SuspiciousHeaders) {
		name, pat, ok := strings.Cut(pair, ":")
		if !ok {
			continue
		}
		re, err := regexp.Compile(`(?i)` + pat)
		if err != nil {
			continue // settings are checked when set
		}
		for _, v := range p.Msg.Values(name) {
			if re.MatchString(v) || re.MatchString(mailmsg.DecodeHeader(v)) {
				return hit("the %s field matches a suspicious pattern", name)
			}
		}
	}
	return miss
}
