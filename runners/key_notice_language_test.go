package runners

import (
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestKeyChangeAnnouncedInListLanguage: the notices of a key change, to
// the address (signed, in clear) and to the owner, are written in the
// list's language, the event sentence included.
func TestKeyChangeAnnouncedInListLanguage(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	tests := []struct {
		lang          string
		member, owner []string
	}{
		{"fr", []string{
			"La clé OpenPGP de bob@subs.test est maintenant %s ; c'était ",
			"Demandé par : bob@subs.test",
			"Si vous ne l'avez pas demandé, quelqu'un d'autre peut désormais lire le",
		}, []string{
			"La clé OpenPGP de bob@subs.test est maintenant %s ; c'était ",
			"Le membre a été prévenu à bob@subs.test.",
		}},
		{"de", []string{
			"Der OpenPGP-Schlüssel für bob@subs.test ist jetzt %s; vorher war es ",
			"Beantragt von: bob@subs.test",
			"Wenn Sie das nicht beantragt haben, kann jetzt jemand anderes die",
		}, []string{
			"Der OpenPGP-Schlüssel für bob@subs.test ist jetzt %s; vorher war es ",
			"Das Mitglied wurde unter bob@subs.test benachrichtigt.",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			s, homes, keys := keySite(t)
			s.setList(t, map[string]string{"language": tt.lang})
			bob, ann := homes["bob@subs.test"], homes["ann@subs.test"]
			nh := gnupg.New(t)
			newFpr := nh.GenKey("bob <bob@subs.test>", "cv25519")
			nh.Import(homes["list"].ExportPublic("team@lists.test"))
			s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(bob, "bob@subs.test", "x", "x-list-name team\nkey change\n\n"+string(nh.ExportPublic("bob@subs.test"))))
			s.drain(t)
			if got := boundFpr(keys, "bob@subs.test"); got != newFpr {
				t.Fatalf("key change not done: %q", got)
			}
			var member, owner string
			for _, m := range s.mailbox(t, "bob@subs.test") {
				if !strings.Contains(string(m), "multipart/encrypted") {
					member += string(verifySigned(t, bob, m))
				}
			}
			for _, m := range s.mailbox(t, "ann@subs.test") {
				if strings.Contains(string(m), "multipart/encrypted") {
					owner += decryptReply(t, ann, string(m))
				}
			}
			noEnglish(t, tt.lang, "the notice to bob", member)
			noEnglish(t, tt.lang, "the notice to the owner", owner)
			for _, w := range tt.member {
				if w = strings.ReplaceAll(w, "%s", newFpr); !strings.Contains(member, w) {
					t.Errorf("the notice to bob lacks %q:\n%s", w, member)
				}
			}
			for _, w := range tt.owner {
				if w = strings.ReplaceAll(w, "%s", newFpr); !strings.Contains(owner, w) {
					t.Errorf("the notice to the owner lacks %q:\n%s", w, owner)
				}
			}
		})
	}
}
