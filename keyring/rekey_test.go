package keyring

import (
	"errors"
	"testing"
)

// TestRekey re-seals list keys under a new passphrase: the old one no
// longer opens them, the new one does, from another handle too.
func TestRekey(t *testing.T) {
	SMIMERSABits = 2048
	k := newKeyring(t)
	fpr, err := k.GenerateOpenPGP("team@lists.test", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.GenerateSMIME("team@lists.test"); err != nil {
		t.Fatal(err)
	}
	n, err := k.Rekey([]byte("new passphrase"))
	if err != nil || n != 2 {
		t.Fatalf("Rekey = %d, %v", n, err)
	}
	old, _ := Open(k.Path(), testPassphrase, nil)
	if _, err := old.ListKeyPGP("team@lists.test"); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("old passphrase: %v", err)
	}
	fresh, _ := Open(k.Path(), []byte("new passphrase"), nil)
	e, err := fresh.ListKeyPGP("team@lists.test")
	if err != nil || Fingerprint(e) != fpr {
		t.Fatalf("new passphrase: %v", err)
	}
	if _, _, _, err := fresh.ListKeySMIME("team@lists.test"); err != nil {
		t.Fatalf("S/MIME key under the new passphrase: %v", err)
	}
	if _, err := k.GenerateOpenPGP("two@lists.test", "", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.ListKeyPGP("two@lists.test"); err != nil {
		t.Fatalf("key stored after re-keying: %v", err)
	}
}
