package runners

import (
	"strings"
	"testing"

	"cloister/queue"
)

// TestRuleReasonInListLanguage: the reason a posting-chain rule gives for
// holding a post reaches the owner's notice in the list's language: a fixed
// reason (no subject), and one that names counts (max_recipients), with its
// numbers kept.
func TestRuleReasonInListLanguage(t *testing.T) {
	tests := []struct {
		name, lang, reason string
		settings           map[string]string
		head               string // the post's header fields before Message-ID
	}{
		{"no subject", "fr", "le message n'a pas d'objet", nil, "To: team@lists.test\n"},
		{"no subject", "de", "der Beitrag hat keinen Betreff", nil, "To: team@lists.test\n"},
		{"no subject", "en", "the post has no subject", nil, "To: team@lists.test\n"},
		{"max recipients", "fr", "le message a 3 destinataires dans To et Cc, plus de 2", map[string]string{"max_recipients": "2"}, "To: team@lists.test, x@other.test\nCc: y@other.test\nSubject: many\n"},
		{"max recipients", "de", "der Beitrag hat 3 Empfänger in To und Cc, mehr als 2", map[string]string{"max_recipients": "2"}, "To: team@lists.test, x@other.test\nCc: y@other.test\nSubject: many\n"},
		{"max recipients", "en", "the post has 3 recipients in To and Cc, more than 2", map[string]string{"max_recipients": "2"}, "To: team@lists.test, x@other.test\nCc: y@other.test\nSubject: many\n"},
	}
	for i, tt := range tests {
		t.Run(tt.name+"/"+tt.lang, func(t *testing.T) {
			s := newTestSite(t)
			settings := map[string]string{"language": tt.lang}
			for k, v := range tt.settings {
				settings[k] = v
			}
			s.setList(t, settings)
			s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\n"+tt.head+"Message-ID: <reason-"+string(rune('a'+i))+"@subs.test>\n\nthe post\n")
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
