package runners

import (
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestKeySetChallengeInListLanguage: key set's reply and the challenge it
// sends are written in the list's language, with the paragraph a list
// whose owners approve keys adds.
func TestKeySetChallengeInListLanguage(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	tests := []struct {
		lang string
		want []string
	}{
		{"fr", []string{"un défi chiffré pour la clé OpenPGP %s a été envoyé à dan@else.test ;", "Répondez à ce message SIGNÉ avec cette clé", "Sur cette liste, la clé est ensuite liée une fois"}},
		{"de", []string{"eine mit OpenPGP-Schlüssel %s verschlüsselte Aufforderung wurde an dan@else.test gesendet;", "Beantworten Sie diese Nachricht SIGNIERT", "Auf dieser Liste wird der Schlüssel dann gebunden"}},
		{"en", []string{"a challenge encrypted to the OpenPGP key %s was sent to dan@else.test;", "Answer this message SIGNED with that key", "On this list the key is then bound once the list owners approve it, or a member"}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			s, homes, _ := keySite(t)
			s.setList(t, map[string]string{"key_enrolment": "vouched", "language": tt.lang})
			dan := homes["dan@else.test"]
			s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nkey set\n\n"+string(dan.ExportPublic("dan@else.test")))
			s.drain(t)
			var text string
			for _, m := range s.mailbox(t, "dan@else.test") {
				if strings.Contains(string(m), "multipart/encrypted") {
					text += decryptReply(t, dan, string(m))
				} else {
					text += string(m)
				}
			}
			text = strings.ReplaceAll(text, "\r\n", "\n")
			if tt.lang != "en" {
				noEnglish(t, tt.lang, "dan's mail", text)
			}
			for _, w := range tt.want {
				if w = strings.ReplaceAll(w, "%s", dan.Fingerprint("dan@else.test")); !strings.Contains(text, w) {
					t.Errorf("dan's mail lacks %q:\n%s", w, text)
				}
			}
		})
	}
}
