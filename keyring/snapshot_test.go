package keyring

import (
	"errors"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"cloister/internal/gnupg"
)

// TestDamagedRecordFailsItsOwnLookups checks that a subscriber key record
// that no longer decodes (a damaged database page, a record written by a
// broken tool) fails the lookups of its own address with an error naming
// the record, and leaves every other key of the keyring usable: the
// snapshot decodes records on use, so one bad record does not stop the
// fan-outs of every list.
func TestDamagedRecordFailsItsOwnLookups(t *testing.T) {
	g := gnupg.New(t)
	k := newKeyring(t)
	add := func(uid, addr string) string {
		fpr, err := k.AddOpenPGP(addr, g.ExportPublic(g.GenKey(uid, "cv25519")), false)
		if err != nil {
			t.Fatal(err)
		}
		return fpr
	}
	good, bad := add("Ida <ida@subs.test>", "ida@subs.test"), add("Jo <jo@subs.test>", "jo@subs.test")
	now := time.Now()
	if _, err := k.EncryptionKeyPGP("jo@subs.test", now); err != nil {
		t.Fatalf("before the damage: %v", err)
	}
	if err := k.update(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPGP).Put([]byte(bad), []byte(`{"fingerprint": "`))
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := k.EncryptionKeyPGP("ida@subs.test", now); err != nil {
		t.Errorf("the other key after the damage: %v", err)
	}
	_, err := k.EncryptionKeyPGP("jo@subs.test", now)
	if err == nil || !strings.Contains(err.Error(), "in pgp") || errors.Is(err, ErrNoKey) {
		t.Errorf("the damaged key: err = %v, want the record's decoding error", err)
	}
	if _, err := k.SigningKeyPGP("jo@subs.test", now); err == nil {
		t.Error("the damaged key signs")
	}
	ents, err := k.Entries(now)
	if err != nil {
		t.Fatalf("Entries: %v", err)
	}
	states := map[string]State{}
	for _, e := range ents {
		states[e.Fingerprint] = e.State
	}
	if states[bad] != StateInvalid || states[good] == StateInvalid {
		t.Errorf("Entries states %v, want %s invalid and %s not", states, bad, good)
	}
}
