package rules

import (
	"strings"

	"cloister/mailmsg"
)

// NoSubject fires on a post without a Subject, or with an empty one.
type NoSubject struct{}

// Name implements Rule.
func (NoSubject) Name() string { return "no-subject" }

// Description implements Rule.
func (NoSubject) Description() string { return "the post has no subject" }

// Check implements Rule.
func (NoSubject) Check(p *Post) Result {
	s := strings.TrimSpace(mailmsg.DecodeHeader(p.Msg.Get("Subject")))
	if s == "" || strings.EqualFold(s, "(no subject)") {
		return hit("the post has no subject")
	}
	return miss
}
