package runners

import (
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestKeyRequestNoticeInListLanguage: on a list whose owners approve keys,
// the owners' notice of a proven key request is written in the list's
// language (the language is set after the challenge went out: the notice
// takes the list's language when it is made).
func TestKeyRequestNoticeInListLanguage(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	tests := []struct {
		lang    string
		want    []string
		refused string
	}{
		{"fr", []string{"dan@else.test demande que la clé OpenPGP ", "sur\ncette liste (key_enrolment vouched)", "ou refusez-la avec « key refuse ", "Un membre de la liste qui a vérifié l'empreinte"}, "Les propriétaires de la liste ont refusé de lier la clé OpenPGP "},
		{"de", []string{"dan@else.test beantragt, dass OpenPGP-Schlüssel ", "auf dieser Liste (key_enrolment vouched)", "oder lehnen Sie ihn mit \"key refuse ", "Ein Mitglied der Liste, das den Fingerabdruck"}, "Die Eigentümer der Liste haben abgelehnt, OpenPGP-Schlüssel "},
		{"en", []string{"dan@else.test asks that the OpenPGP key ", "on\nthis list (key_enrolment vouched)", "or refuse it with \"key refuse ", "A member of the list who checked the fingerprint"}, "The list owners refused to bind the OpenPGP key "},
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
			if tt.lang != "en" {
				noEnglish(t, tt.lang, "the owner's notice", notice)
			}
			m := keyRequestRE.FindStringSubmatch(notice)
			if m == nil {
				t.Fatalf("no key request ID in the owner's notice:\n%s", notice)
			}
			s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "x", "x-list-name team\nkey refuse "+m[1]+"\n"))
			s.drain(t)
			var told string
			for _, msg := range s.mailbox(t, "dan@else.test") {
				if !strings.Contains(string(msg), "multipart/encrypted") && strings.Contains(string(msg), "multipart/signed") {
					one := string(verifySigned(t, dan, msg))
					told += one
					// The earlier reply to key set went out while the list
					// was English: only the refusal's notice is checked.
					if tt.lang != "en" && strings.Contains(one, tt.refused) {
						noEnglish(t, tt.lang, "dan's notice of the refusal", one)
					}
				}
			}
			if !strings.Contains(told, tt.refused) {
				t.Errorf("dan's notice of the refusal lacks %q:\n%s", tt.refused, told)
			}
		})
	}
}
