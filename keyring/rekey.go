package keyring

import (
	"bytes"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// ReadPassphraseFile reads a passphrase file with the checks LoadPassphrase
// applies (mode at most 0640, not empty, one trailing newline dropped).
func ReadPassphraseFile(path string) ([]byte, error) { return readPassphrase(path) }

// Rekey seals every list's private key again under newPassphrase and makes
// it this handle's passphrase. The slow work (two Argon2id derivations per
// key) happens outside any lock; the write then checks that no key changed
// meanwhile. Other processes need the new passphrase from then on. It
// returns the number of keys re-sealed.
func (k *Keyring) Rekey(newPassphrase []byte) (int, error) {
	if len(k.passphrase) == 0 || len(newPassphrase) == 0 {
		return 0, ErrNoPassphrase
	}
	var recs []*listRecord
	err := k.view(func(tx *bolt.Tx) error {
		return forEachJSON(tx, bucketList, func(_ []byte, r *listRecord) { recs = append(recs, r) })
	})
	if err != nil {
		return 0, fmt.Errorf("read list keys: %w", err)
	}
	type resealed struct {
		key string
		old []byte
		rec *listRecord
	}
	var out []resealed
	for _, r := range recs {
		if r.Secret == nil {
			continue
		}
		ad := secretAD(r.Kind, r.List)
		pt, err := r.Secret.open(k.passphrase, ad)
		if err != nil {
			return 0, fmt.Errorf("key of %s: %w", r.List, err)
		}
		s, err := sealSecret(newPassphrase, pt, ad)
		if err != nil {
			return 0, err
		}
		old := r.Secret.Data
		c := *r
		c.Secret = s
		out = append(out, resealed{listKey(r.Kind, r.List), old, &c})
	}
	err = k.update(func(tx *bolt.Tx) error {
		for _, o := range out {
			var cur listRecord
			ok, err := getJSON(tx, bucketList, o.key, &cur)
			if err != nil {
				return err
			}
			if !ok || cur.Secret == nil || !bytes.Equal(cur.Secret.Data, o.old) {
				return errors.New("a list key changed during the re-keying: run it again")
			}
			if err := putJSON(tx, bucketList, o.key, o.rec); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("store re-sealed keys: %w", err)
	}
	k.passphrase = bytes.Clone(newPassphrase)
	return len(out), nil
}
