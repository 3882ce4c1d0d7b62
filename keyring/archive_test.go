package keyring

import (
	"errors"
	"path/filepath"
	"testing"
)

// TestArchiveKey: the archive key is its own keypair, stored beside the
// list key, readable without the passphrase as a public key and with it as
// a secret key; a second one is refused.
func TestArchiveKey(t *testing.T) {
	k := newKeyring(t)
	const list = "team@lists.example.test"
	if _, err := k.ArchiveKey(list); !errors.Is(err, ErrNoListKey) {
		t.Fatalf("before generation: %v", err)
	}
	listFpr, err := k.GenerateOpenPGP(list, "", AlgoCurve25519)
	if err != nil {
		t.Fatal(err)
	}
	fpr, err := k.GenerateArchiveKey("Team@Lists.Example.Test")
	if err != nil {
		t.Fatal(err)
	}
	if fpr == listFpr {
		t.Fatal("archive key is the list key")
	}
	if _, err := k.GenerateArchiveKey(list); err == nil {
		t.Fatal("second archive key accepted")
	}
	pub, err := k.ArchiveKey(list)
	if err != nil || Fingerprint(pub) != fpr || pub.PrivateKey != nil {
		t.Fatalf("ArchiveKey = %v, %v", pub, err)
	}
	sec, err := k.ArchiveSecretKey(list)
	if err != nil || Fingerprint(sec) != fpr || sec.PrivateKey == nil || sec.PrivateKey.Encrypted {
		t.Fatalf("ArchiveSecretKey: %v", err)
	}
	// Another process without the passphrase encrypts but cannot read.
	ro, err := Open(k.Path(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ro.ArchiveKey(list); err != nil {
		t.Fatal(err)
	}
	if _, err := ro.ArchiveSecretKey(list); !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("secret without passphrase: %v", err)
	}
	wrong, err := Open(filepath.Clean(k.Path()), []byte("wrong"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wrong.ArchiveSecretKey(list); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("secret with a wrong passphrase: %v", err)
	}
}
