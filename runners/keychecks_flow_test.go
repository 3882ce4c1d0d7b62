package runners

import (
	"bytes"
	"os"
	"testing"

	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/queue"
)

// TestKeyChecksKeptButRevocationSeen: the outgoing runner keeps the
// signature checks of the keys it encrypted to (keyring.db.checks), and a
// new process takes them instead of verifying again; cat's key is then
// revoked by another process, and a post sent by yet another new process
// (a fresh keyring handle that reads the kept checks) is not encrypted to
// the revoked key: kept checks are for the record's exact bytes only.
func TestKeyChecksKeptButRevocationSeen(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, k, cat, fpr := catKeyedSite(t)

	const first, second, third = "FIRST-POST-5d2", "SECOND-POST-e81", "THIRD-POST-07a"
	send := func(text string) []byte {
		t.Helper()
		s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: Post\n\n"+text+"\n")
		s.drain(t)
		box := s.mailbox(t, "cat@subs.test")
		return box[len(box)-1]
	}
	fresh := func() {
		t.Helper()
		h, err := keyring.Open(k.Path(), []byte("test passphrase"), nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { h.Close() })
		s.SetKeyring(h)
	}
	if pt, _, err := cat.Decrypt(armoredPart(t, send(first))); err != nil || !bytes.Contains(pt, []byte(first)) {
		t.Fatalf("cat's gpg cannot open her first copy: %v", err)
	}
	if _, err := os.Stat(k.Path() + ".checks"); err != nil {
		t.Fatalf("the outgoing runner kept no signature checks: %v", err)
	}
	fresh() // a new process, taking the kept checks
	if pt, _, err := cat.Decrypt(armoredPart(t, send(second))); err != nil || !bytes.Contains(pt, []byte(second)) {
		t.Fatalf("cat's gpg cannot open the copy made from kept checks: %v", err)
	}

	other, err := keyring.Open(k.Path(), []byte("test passphrase"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	cat.Revoke(fpr)
	if _, err := other.AddOpenPGP("cat@subs.test", cat.ExportPublic(fpr), false); err != nil {
		t.Fatal(err)
	}
	fresh()
	last := send(third)
	if bytes.Contains(last, []byte("BEGIN PGP MESSAGE")) {
		if _, _, err := cat.Decrypt(armoredPart(t, last)); err == nil {
			t.Fatal("the third post was encrypted to cat's revoked key")
		}
	}
	if !bytes.Contains(last, []byte(third)) {
		t.Fatalf("cat's third copy (no usable key, distribution encrypt yes) is not the post in clear:\n%s", last)
	}
}
