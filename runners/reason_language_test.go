package runners

import (
	"strings"
	"testing"

	"cloister/queue"
)

// TestRuleReasonInListLanguage: the reason a posting-chain rule gives for
// holding a post reaches the owner's notice in the list's language.
func TestRuleReasonInListLanguage(t *testing.T) {
	tests := []struct{ lang, reason string }{
		{"fr", "le message n'a pas d'objet"},
		{"de", "der Beitrag hat keinen Betreff"},
		{"en", "the post has no subject"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			s := newTestSite(t)
			s.setList(t, map[string]string{"language": tt.lang})
			s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nMessage-ID: <reason-"+tt.lang+"@subs.test>\n\nno subject here\n")
			s.drain(t)
			box := s.mailbox(t, "ann@subs.test")
			if len(box) == 0 {
				t.Fatal("the owner got no notice of the held post")
			}
			for _, m := range box {
				if !strings.Contains(string(m), tt.reason) {
					t.Errorf("the notice lacks the reason %q:\n%s", tt.reason, m)
				}
			}
		})
	}
}

// TestRuleReasonWithArgumentsInListLanguage: a reason that names a count
// (max_recipients) reaches the owner's notice in the list's language, with
// its numbers kept.
func TestRuleReasonWithArgumentsInListLanguage(t *testing.T) {
	tests := []struct{ lang, reason string }{
		{"fr", "le message a 3 destinataires dans To et Cc, plus de 2"},
		{"de", "der Beitrag hat 3 Empfänger in To und Cc, mehr als 2"},
		{"en", "the post has 3 recipients in To and Cc, more than 2"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			s := newTestSite(t)
			s.setList(t, map[string]string{"language": tt.lang, "max_recipients": "2"})
			s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test, x@other.test\nCc: y@other.test\nSubject: many\nMessage-ID: <args-"+tt.lang+"@subs.test>\n\nmany recipients\n")
			s.drain(t)
			box := s.mailbox(t, "ann@subs.test")
			if len(box) == 0 {
				t.Fatal("the owner got no notice of the held post")
			}
			for _, m := range box {
				if !strings.Contains(string(m), tt.reason) {
					t.Errorf("the notice lacks the reason %q:\n%s", tt.reason, m)
				}
			}
		})
	}
}
