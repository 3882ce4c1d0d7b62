package commands

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/keyring"
	"cloister/queue"
	"cloister/rules"
)

// TestListKeyMadeAfterNow: the list's own key signs for a command whose job
// time was taken before the key was made (a key made or rotated while the
// command waited, or in the same second: OpenPGP holds a key not valid
// before its self-signature, which carries whole seconds). The key is used
// at pgp.KeyTime, never refused as "from the future".
func TestListKeyMadeAfterNow(t *testing.T) {
	s, l := testSite(t)
	now := time.Now().Add(-time.Minute) // the job's time, before the key
	k, err := keyring.Open(filepath.Join(s.Config.StateDir, "keyring.db"), []byte("test passphrase"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	s.SetKeyring(k)
	if _, err := k.GenerateOpenPGP(l.Address, "Team", keyring.AlgoCurve25519); err != nil {
		t.Fatal(err)
	}
	m := &queue.Meta{ID: "k1", List: l.Address, Subaddress: queue.SubRequest, Sender: "ann@subs.test", From: "ann@subs.test", Encryption: "none",
		Verdict: "good", Auth: rules.MethodPGP, SignerFpr: "0123456789ABCDEF0123456789ABCDEF01234567", SignerAddresses: []string{"ann@subs.test"}}
	out, err := Handle(newRequest(s, l, m, "From: ann@subs.test\nSubject: x\n\nx-list-name team@lists.test\nsign\nthe text to sign\n", now))
	if err != nil {
		t.Fatal(err)
	}
	reply := replyText(t, out)
	if !strings.Contains(reply, "BEGIN PGP SIGNED MESSAGE") {
		t.Errorf("no signed text in the reply:\n%s", reply)
	}
}
