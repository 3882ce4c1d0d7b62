package runners

import (
	"strings"
	"testing"
)

// TestKeyRequestNoticeInListLanguage: on a list whose owners approve keys,
// the owners' notice of a proven key request is written in the list's
// language (the language is set after the challenge went out: the notice
// takes the list's language when it is made).
func TestKeyRequestNoticeInListLanguage(t *testing.T) {
	tests := []struct {
		lang string
		want []string
	}{
		{"fr", []string{"dan@else.test demande que the OpenPGP key ", "sur\ncette liste (key_enrolment vouched)", "ou refusez-la avec « key refuse ", "Un membre de la liste qui a vérifié l'empreinte"}},
		{"de", []string{"dan@else.test beantragt, dass the OpenPGP key ", "auf dieser Liste (key_enrolment vouched)", "oder lehnen Sie ihn mit \"key refuse ", "Ein Mitglied der Liste, das den Fingerabdruck"}},
		{"en", []string{"dan@else.test asks that the OpenPGP key ", "on\nthis list (key_enrolment vouched)", "or refuse it with \"key refuse ", "A member of the list who checked the fingerprint"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			s, homes, _ := keySite(t)
			s.setList(t, map[string]string{"key_enrolment": "vouched"})
			dan := homes["dan@else.test"]
			enrolByChallengeAnswer(t, s, dan, func(tok string) string {
				s.setList(t, map[string]string{"language": tt.lang})
				return string(dan.PGPMIMESigned("From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n",
					[]byte("Content-Type: text/plain\n\nyes\n"), "dan@else.test"))
			})
			var notice string
			for _, m := range s.mailbox(t, "ann@subs.test") {
				if strings.Contains(string(m), "multipart/encrypted") {
					notice += strings.ReplaceAll(decryptReply(t, homes["ann@subs.test"], string(m)), "\r\n", "\n")
				}
			}
			for _, w := range tt.want {
				if !strings.Contains(notice, w) {
					t.Errorf("the owner's notice lacks %q:\n%s", w, notice)
				}
			}
		})
	}
}
