package keyring

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net/mail"
	"slices"
	"strings"
	"time"

	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	bolt "go.etcd.io/bbolt"

	"cloister/mimecrypt/pgp"
	"cloister/mimecrypt/smime"
)

// Bounds on one imported OpenPGP key.
const (
	maxSubkeys    = 64
	maxIdentities = 64
)

// pgpRecord is a subscriber's (or sender's) OpenPGP public key.
type pgpRecord struct {
	Fingerprint string    `json:"fingerprint"`
	Key         []byte    `json:"key"` // transferable public key, third-party certifications stripped
	Added       time.Time `json:"added"`
	Addresses   []string  `json:"addresses"`             // member addresses the key is bound to
	OwnerBound  []string  `json:"owner_bound,omitempty"` // of those, the ones an owner bound without a user ID
}

// AddOpenPGP imports a subscriber's public key (armored or binary, with its
// subkeys) for address. Third-party certifications are dropped (certificate
// flooding); a revocation already stored for the key is kept. The key is
// bound to address when one of its self-signed user IDs carries it, or when
// boundByOwner (an owner vouches for it); otherwise the import fails with
// ErrNotBound. A secret key is stored as its public part. Expired and
// revoked keys are stored, and judged again at use. It returns the
// fingerprint.
func (k *Keyring) AddOpenPGP(address string, data []byte, boundByOwner bool) (string, error) {
	addr, err := normAddress(address)
	if err != nil {
		return "", err
	}
	el, err := readKeys(data)
	if err != nil {
		return "", err
	}
	if len(el) != 1 {
		return "", fmt.Errorf("import: %d keys in the file, want one", len(el))
	}
	e := el[0]
	if len(e.Subkeys) > maxSubkeys || len(e.Identities) > maxIdentities {
		return "", fmt.Errorf("import: key with %d subkeys and %d user IDs is over the limits (%d, %d)",
			len(e.Subkeys), len(e.Identities), maxSubkeys, maxIdentities)
	}
	if _, err := e.VerifyPrimaryKey(time.Time{}, nil); err != nil && !errors.Is(err, pgperrors.ErrKeyRevoked) {
		return "", fmt.Errorf("import: key %s has no valid self-signature: %w", Fingerprint(e), err)
	}
	for _, id := range e.Identities {
		id.OtherCertifications = nil
	}
	fpr := Fingerprint(e)
	uids := userIDAddresses(e)
	bound := slices.Contains(uids, addr)
	if !bound && !boundByOwner {
		return "", fmt.Errorf("key %s for %s: its user IDs carry %s: %w (an owner can bind it anyway)",
			fpr, addr, strings.Join(uids, ", "), ErrNotBound)
	}
	now := k.now()
	err = k.update(func(tx *bolt.Tx) error {
		var rec pgpRecord
		found, err := getJSON(tx, bucketPGP, fpr, &rec)
		if err != nil {
			return err
		}
		if found {
			keepRevocations(e, rec.Key)
		} else {
			rec = pgpRecord{Fingerprint: fpr, Added: now}
		}
		var pub bytes.Buffer
		if err := e.Serialize(&pub); err != nil {
			return fmt.Errorf("serialize key: %w", err)
		}
		rec.Key = pub.Bytes()
		if !slices.Contains(rec.Addresses, addr) {
			rec.Addresses = append(rec.Addresses, addr)
		}
		if !bound && !slices.Contains(rec.OwnerBound, addr) {
			rec.OwnerBound = append(rec.OwnerBound, addr)
		}
		if err := putJSON(tx, bucketPGP, fpr, &rec); err != nil {
			return err
		}
		if err := tx.Bucket(bucketPGPAddr).Put([]byte(addr+"\x00"+fpr), nil); err != nil {
			return err
		}
		ids := tx.Bucket(bucketPGPID)
		for _, id := range keyIDs(e) {
			if err := ids.Put(idKey(id, fpr), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return "", fmt.Errorf("store key %s: %w", fpr, err)
	}
	return fpr, nil
}

// idKey is a key of the key ID index.
func idKey(id uint64, fpr string) []byte {
	b := binary.BigEndian.AppendUint64(nil, id)
	return append(b, fpr...)
}

// keyIDs returns the key IDs of e's primary key and subkeys.
func keyIDs(e *openpgp.Entity) []uint64 {
	ids := []uint64{e.PrimaryKey.KeyId}
	for _, s := range e.Subkeys {
		ids = append(ids, s.PublicKey.KeyId)
	}
	return ids
}

// keepRevocations adds to e the revocations of the stored copy old, so that
// importing an older copy of a key cannot undo its revocation.
func keepRevocations(e *openpgp.Entity, old []byte) {
	el, err := openpgp.ReadKeyRing(bytes.NewReader(old))
	if err != nil || len(el) != 1 {
		return
	}
	o := el[0]
	if len(e.Revocations) == 0 {
		e.Revocations = o.Revocations
	}
	for _, osub := range o.Subkeys {
		for i := range e.Subkeys {
			if e.Subkeys[i].PublicKey.KeyId == osub.PublicKey.KeyId && len(e.Subkeys[i].Revocations) == 0 {
				e.Subkeys[i].Revocations = osub.Revocations
			}
		}
	}
}

// userIDAddresses returns the addresses of e's user IDs that carry a valid
// self-signature, lower case.
func userIDAddresses(e *openpgp.Entity) []string {
	var out []string
	for _, id := range e.Identities {
		if _, err := id.LatestValidSelfCertification(time.Time{}, nil); err != nil {
			continue
		}
		a := id.UserId.Email
		if a == "" {
			if pa, err := mail.ParseAddress(id.Name); err == nil {
				a = pa.Address
			} else if strings.Contains(id.Name, "@") && !strings.ContainsAny(id.Name, " <>") {
				a = id.Name
			}
		}
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	slices.Sort(out)
	return out
}

// UnboundAddresses returns the addresses, other than address, that the
// OpenPGP key or certificate in data names (self-signed user IDs;
// subjectAltName rfc822Names and subject emailAddress): importing it for
// address (AddOpenPGP, AddCert) binds none of them, so signatures by it do
// not authenticate them. Data that cannot be read names none.
func UnboundAddresses(address string, data []byte) []string {
	addr, _ := normAddress(address)
	var named []string
	if el, err := readKeys(data); err == nil && len(el) == 1 {
		named = userIDAddresses(el[0])
	} else if certs, err := parseCerts(data); err == nil && len(certs) > 0 {
		named = smime.Addresses(certs[0])
	}
	var out []string
	for _, a := range named {
		if a != addr && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}

// pgpEntity returns the parsed key of a record, parsing it and checking
// its signatures once per process and record version (see parsedPGP).
func (k *Keyring) pgpEntity(r *pgpRecord, now time.Time) (*openpgp.Entity, error) {
	p, err := k.pgpParsed(r, now)
	if err != nil {
		return nil, err
	}
	return p.entity, nil
}

// EncryptionKeyPGP returns the OpenPGP key to encrypt to address at now:
// of the keys bound to address, the newest that can be encrypted to. When
// none can, the error wraps ErrNoKey, ErrExpired, ErrRevoked or
// ErrNoEncryptionSubkey (for the newest key), and pgp.ErrNoEncryptionKey.
// The entity is shared: callers must not modify it.
func (k *Keyring) EncryptionKeyPGP(address string, now time.Time) (*openpgp.Entity, error) {
	addr, err := normAddress(address)
	if err != nil {
		return nil, err
	}
	s, err := k.current()
	if err != nil {
		return nil, err
	}
	var best *openpgp.Entity
	var bestErr error
	var bestErrTime time.Time
	for _, fpr := range s.pgpAddr[addr] {
		r := s.pgp[fpr]
		if r == nil {
			continue
		}
		p, err := k.pgpParsed(r, now)
		if err != nil {
			return nil, err
		}
		e := p.entity
		created := e.PrimaryKey.CreationTime
		if err := p.encryptable(now); err != nil {
			if bestErr == nil || created.After(bestErrTime) {
				bestErr, bestErrTime = fmt.Errorf("key %s of %s: %w: %w", fpr, addr, err, pgpLookupErr), created
			}
			continue
		}
		if best == nil || created.After(best.PrimaryKey.CreationTime) {
			best = e
		}
	}
	if best != nil {
		return best, nil
	}
	if bestErr != nil {
		return nil, bestErr
	}
	return nil, fmt.Errorf("%s: %w: %w", addr, ErrNoKey, pgpLookupErr)
}

// EncryptionPGP is EncryptionKeyPGP under the name the runners' site.Keys uses.
func (k *Keyring) EncryptionPGP(address string, now time.Time) (*openpgp.Entity, error) {
	return k.EncryptionKeyPGP(address, now)
}

// Senders returns the source of senders' public keys for pgp.Open: every
// subscriber key in the keyring, found by the key ID of its primary key or
// of any subkey, with the addresses the keyring bound it to (by a proven
// enrolment or by an owner). The user IDs a key carries are not bindings:
// a key imported for one address authenticates that address only. It
// reads the keyring's current state on every lookup.
func (k *Keyring) Senders() pgp.KeySource { return senders{k} }

// senders is the KeySource of a keyring.
type senders struct{ k *Keyring }

// SenderKeys returns the stored public keys holding key ID id, each with
// the addresses bound to it: those of its record that the address index
// also holds. A keyring that cannot be read yields none (the signature is
// then by an unknown key).
func (s senders) SenderKeys(id uint64) []pgp.BoundKey {
	if id == 0 {
		return nil
	}
	snap, err := s.k.current()
	if err != nil {
		return nil
	}
	var out []pgp.BoundKey
	for _, fpr := range snap.pgpID[id] {
		r := snap.pgp[fpr]
		if r == nil {
			continue
		}
		e, err := s.k.pgpEntity(r, s.k.now())
		if err != nil {
			continue
		}
		var bound []string
		for _, a := range r.Addresses {
			if slices.Contains(snap.pgpAddr[a], fpr) {
				bound = append(bound, a)
			}
		}
		out = append(out, pgp.BoundKey{Entity: e, Addresses: bound})
	}
	return out
}
