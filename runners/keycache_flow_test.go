package runners

import (
	"bytes"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/queue"
)

// TestKeyRevokedBetweenPosts: the runners of one process send two posts;
// between them cat's key is revoked through another handle on keyring.db
// (as `cloister key revoke` in another process writes it). The first copy is
// encrypted to cat's key and her gpg opens it; the second is not encrypted to
// the revoked key although the process kept the key parsed and judged from
// the first post.
func TestKeyRevokedBetweenPosts(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, k, cat, fpr := catKeyedSite(t)

	const first, second = "FIRST-POST-4b1", "SECOND-POST-9c7"
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: One\n\n"+first+"\n")
	s.drain(t)
	box := s.mailbox(t, "cat@subs.test")
	if len(box) != 1 || bytes.Contains(box[0], []byte(first)) {
		t.Fatalf("cat's first copy is not encrypted (%d messages)", len(box))
	}
	if pt, _, err := cat.Decrypt(armoredPart(t, box[0])); err != nil || !bytes.Contains(pt, []byte(first)) {
		t.Fatalf("cat's gpg cannot open her first copy: %v", err)
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

	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: Two\n\n"+second+"\n")
	s.drain(t)
	box = s.mailbox(t, "cat@subs.test")
	if len(box) != 2 {
		t.Fatalf("cat received %d messages, want 2", len(box))
	}
	if bytes.Contains(box[1], []byte("BEGIN PGP MESSAGE")) {
		if _, _, err := cat.Decrypt(armoredPart(t, box[1])); err == nil {
			t.Fatal("the second post was encrypted to cat's revoked key")
		}
	}
	if !bytes.Contains(box[1], []byte(second)) {
		t.Fatalf("cat's second copy (no usable key, distribution encrypt yes) is not the post in clear:\n%s", box[1])
	}
}

// catKeyedSite returns a site whose list team@lists.test has an OpenPGP key
// and distributes encrypted, with cat's gpg-made key (fingerprint fpr) on
// file: the start of the tests of what a runner keeps of a key between
// posts.
func catKeyedSite(t *testing.T) (*testSite, *keyring.Keyring, *gnupg.Home, string) {
	t.Helper()
	s := newTestSite(t)
	k := s.useKeyring(t)
	if _, err := k.GenerateOpenPGP("team@lists.test", "team", keyring.AlgoCurve25519); err != nil {
		t.Fatal(err)
	}
	listPub, err := k.ExportOpenPGP("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	cat := gnupg.New(t)
	cat.Import(listPub)
	fpr := cat.GenKey("Cat <cat@subs.test>", "cv25519")
	if _, err := k.AddOpenPGP("cat@subs.test", cat.ExportPublic(fpr), false); err != nil {
		t.Fatal(err)
	}
	s.setList(t, map[string]string{"pgp_distrib_encrypt": "yes"})
	return s, k, cat, fpr
}
