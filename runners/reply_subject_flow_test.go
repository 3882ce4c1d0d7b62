package runners

import (
	"strings"
	"testing"

	"cloister/queue"
)

// TestConfirmReplySubjectNotStacked: a confirmation answered from a mail
// client ("Re: Confirm: subscribe ...", or a reply to a reply) gets a
// result whose Subject carries one "Re: ", not "Re: Re: Confirm: ...".
func TestConfirmReplySubjectNotStacked(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubJoin, "dan@else.test", "From: dan@else.test\nSubject: join\n\n")
	s.drain(t)
	tok := tokenMail(t, s, "dan@else.test", "Subject: Confirm: subscribe dan@else.test")
	s.deliverConfirm(t, tok, "dan@else.test", "From: dan@else.test\nSubject: Re: Re: Confirm: subscribe dan@else.test\n\n")
	s.drain(t)
	if s.member(t, "dan@else.test") == nil {
		t.Fatal("the confirmation did not subscribe dan")
	}
	var subjects []string
	for _, m := range s.mailbox(t, "dan@else.test") {
		for _, l := range strings.Split(string(m), "\n") {
			if strings.HasPrefix(l, "Subject: ") {
				subjects = append(subjects, strings.TrimRight(l, "\r"))
				break
			}
		}
	}
	var found bool
	for _, sub := range subjects {
		if strings.Contains(sub, "Re: Re:") {
			t.Errorf("stacked reply subject %q", sub)
		}
		if sub == "Subject: Re: Confirm: subscribe dan@else.test" {
			found = true
		}
	}
	if !found {
		t.Errorf("no result with Subject: Re: Confirm: subscribe dan@else.test among %q", subjects)
	}
}
