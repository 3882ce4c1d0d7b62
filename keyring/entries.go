package keyring

import (
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Entry describes one stored key or certificate for listing.
type Entry struct {
	// Address is the member address (one entry per bound address) or, for a
	// list's own key, the list address.
	Address string
	// List is true for a list's own key.
	List bool
	// Kind is pgp or x509.
	Kind Kind
	// Fingerprint is the OpenPGP fingerprint or the certificate's SHA-256.
	Fingerprint string
	// Created is the key's creation or the certificate's notBefore time.
	Created time.Time
	// Expires is when the key or certificate expires; zero for never.
	Expires time.Time
	// Usable is what the key can do now: "sign", "encrypt".
	Usable []string
	// State is the key's state now.
	State State
	// Note says how the key came in: "owner-bound", "captured", "sign-only"...
	Note string
}

// Entries lists every key and certificate with its state at now, list keys
// first, then by address and fingerprint.
func (k *Keyring) Entries(now time.Time) ([]Entry, error) {
	s, err := k.current()
	if err != nil {
		return nil, err
	}
	_, crls, _ := k.SMIMETrust()
	var out []Entry
	for _, r := range s.lists {
		e := Entry{Address: r.List, List: true, Kind: r.Kind, Fingerprint: r.Fingerprint, Created: r.Created, Expires: r.Expires}
		switch r.Kind {
		case KindPGP:
			ents, err := readKeys(r.Public)
			if err != nil {
				e.State = StateInvalid
			} else {
				e.State, e.Usable, e.Expires = pgpState(ents[0], now)
			}
		case KindX509:
			e.State, e.Usable = certState(r.Public, UseBoth, now, crls)
		}
		out = append(out, e)
	}
	for fpr, r := range s.pgp {
		ent, err := k.pgpEntity(r, now)
		e := Entry{Kind: KindPGP, Fingerprint: fpr, State: StateInvalid}
		if err == nil {
			e.Created = ent.PrimaryKey.CreationTime
			e.State, e.Usable, e.Expires = pgpState(ent, now)
		}
		for _, a := range r.Addresses {
			e.Address, e.Note = a, ""
			if slices.Contains(r.OwnerBound, a) {
				e.Note = "owner-bound"
			}
			out = append(out, e)
		}
	}
	for fpr, r := range s.certs {
		e := Entry{Kind: KindX509, Fingerprint: fpr}
		e.State, e.Usable = certState(r.DER, r.Use, now, crls)
		if !r.Withdrawn.IsZero() {
			e.State, e.Usable = StateRevoked, nil
		}
		if c, err := x509.ParseCertificate(r.DER); err == nil {
			e.Created, e.Expires = c.NotBefore, c.NotAfter
		}
		var notes []string
		if r.Captured {
			notes = append(notes, "captured")
		}
		if !r.Withdrawn.IsZero() {
			notes = append(notes, "withdrawn")
		}
		if r.Use != UseBoth {
			notes = append(notes, string(r.Use)+"-only")
		}
		for _, a := range r.Addresses {
			e.Address, e.Note = a, strings.Join(notes, ",")
			out = append(out, e)
		}
	}
	slices.SortFunc(out, func(a, b Entry) int {
		if a.List != b.List {
			if a.List {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Address+"\x00"+a.Fingerprint, b.Address+"\x00"+b.Fingerprint)
	})
	return out, nil
}

// certState judges a stored certificate for its use at now.
func certState(der []byte, use Use, now time.Time, crls []*x509.RevocationList) (State, []string) {
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return StateInvalid, nil
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return StateExpired, nil
	}
	if revokedBy(c, nil, crls) {
		return StateRevoked, nil
	}
	var usable []string
	signs := use != UseEncrypt && (c.KeyUsage == 0 || c.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) != 0)
	if signs {
		usable = append(usable, "sign")
	}
	if use.encrypts() && certEncryptable(c, now, crls) == nil {
		usable = append(usable, "encrypt")
	}
	switch {
	case use.encrypts() && !slices.Contains(usable, "encrypt"):
		return StateNoEncryption, usable
	case use != UseEncrypt && !signs:
		return StateNoSigning, usable
	}
	return StateOK, usable
}

// Remove unbinds the key or certificate with fingerprint from address; a
// key left with no address is deleted. The fingerprint may be abbreviated
// to its last 16 hex digits (an OpenPGP key ID). Removing is how an owner
// replaces a subscriber's key (security invariant 3).
func (k *Keyring) Remove(address, fingerprint string) (string, error) {
	addr, err := normAddress(address)
	if err != nil {
		return "", err
	}
	want := strings.ToUpper(strings.TrimPrefix(strings.ReplaceAll(fingerprint, " ", ""), "0x"))
	if len(want) < 16 {
		return "", fmt.Errorf("fingerprint %q: give at least 16 hex digits", fingerprint)
	}
	var removed string
	err = k.update(func(tx *bolt.Tx) error {
		for _, kind := range []struct {
			idx, recs []byte
		}{{bucketPGPAddr, bucketPGP}, {bucketX509Addr, bucketX509}} {
			c := tx.Bucket(kind.idx).Cursor()
			prefix := []byte(addr + "\x00")
			for key, _ := c.Seek(prefix); key != nil && strings.HasPrefix(string(key), string(prefix)); key, _ = c.Next() {
				fpr := string(key[len(prefix):])
				if !strings.HasSuffix(fpr, want) {
					continue
				}
				if removed != "" && removed != fpr {
					return fmt.Errorf("%s matches several keys of %s: give the whole fingerprint", fingerprint, addr)
				}
				removed = fpr
				if err := unbind(tx, kind.idx, kind.recs, addr, fpr); err != nil {
					return err
				}
				break
			}
		}
		if removed == "" {
			return fmt.Errorf("%s has no key %s: %w", addr, fingerprint, ErrNoKey)
		}
		return nil
	})
	return removed, err
}

// unbind removes addr from the record fpr, deleting the record (and its
// key ID entries) when no address is left.
func unbind(tx *bolt.Tx, idx, recs []byte, addr, fpr string) error {
	if err := tx.Bucket(idx).Delete([]byte(addr + "\x00" + fpr)); err != nil {
		return err
	}
	var left []string
	if string(recs) == string(bucketPGP) {
		var r pgpRecord
		if _, err := getJSON(tx, recs, fpr, &r); err != nil {
			return err
		}
		r.Addresses = slices.DeleteFunc(r.Addresses, func(a string) bool { return a == addr })
		r.OwnerBound = slices.DeleteFunc(r.OwnerBound, func(a string) bool { return a == addr })
		if left = r.Addresses; len(left) > 0 {
			return putJSON(tx, recs, fpr, &r)
		}
		if ents, err := readKeys(r.Key); err == nil {
			for _, id := range keyIDs(ents[0]) {
				tx.Bucket(bucketPGPID).Delete(idKey(id, fpr))
			}
		}
	} else {
		var r certRecord
		if _, err := getJSON(tx, recs, fpr, &r); err != nil {
			return err
		}
		r.Addresses = slices.DeleteFunc(r.Addresses, func(a string) bool { return a == addr })
		if len(r.Addresses) > 0 {
			return putJSON(tx, recs, fpr, &r)
		}
	}
	return tx.Bucket(recs).Delete([]byte(fpr))
}

// RemoveListKey deletes list's key of kind (an S/MIME list certificate is
// removed rather than revoked: its CA revokes it). It returns the
// fingerprint removed.
func (k *Keyring) RemoveListKey(list string, kind Kind) (string, error) {
	list, err := normAddress(list)
	if err != nil {
		return "", err
	}
	var fpr string
	err = k.update(func(tx *bolt.Tx) error {
		var r listRecord
		ok, err := getJSON(tx, bucketList, listKey(kind, list), &r)
		if err != nil {
			return err
		}
		if !ok {
			return fmt.Errorf("list %s: %w", list, ErrNoListKey)
		}
		fpr = r.Fingerprint
		return tx.Bucket(bucketList).Delete([]byte(listKey(kind, list)))
	})
	return fpr, err
}
