package runners

import (
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestKeyBoundEventInListLanguage: the sentence announcing that a key was
// bound by a proven challenge answer is written in the list's language.
func TestKeyBoundEventInListLanguage(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	tests := []struct{ lang, want string }{
		{"fr", "Lien établi entre la clé OpenPGP "},
		{"de", "OpenPGP-Schlüssel "},
		{"en", "the OpenPGP key "},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			s, homes, _ := keySite(t)
			dan := homes["dan@else.test"]
			enrolByChallengeAnswer(t, s, dan, func(tok string) string {
				s.setList(t, map[string]string{"language": tt.lang})
				return string(dan.PGPMIMESigned("From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n",
					[]byte("Content-Type: text/plain\n\nyes\n"), "dan@else.test"))
			})
			var all string
			for _, m := range s.mailbox(t, "ann@subs.test") {
				if strings.Contains(string(m), "multipart/encrypted") {
					all += strings.ReplaceAll(decryptReply(t, homes["ann@subs.test"], string(m)), "\r\n", "\n")
				} else {
					all += strings.ReplaceAll(string(m), "\r\n", "\n")
				}
			}
			if tt.lang != "en" {
				noEnglish(t, tt.lang, "the owner's mail", all)
			}
			all = strings.ReplaceAll(all, "\n", " ")
			want := tt.want + dan.Fingerprint("dan@else.test")
			if tt.lang == "de" {
				want += " wurde an dan@else.test gebunden (Befehl „key set“"
			}
			if tt.lang == "en" {
				want += " was bound to dan@else.test (key set, proven"
			}
			if !strings.Contains(all, want) {
				t.Errorf("the owner's mail lacks %q:\n%s", want, all)
			}
		})
	}
}
