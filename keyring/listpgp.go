package keyring

import (
	"bytes"
	"crypto"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	bolt "go.etcd.io/bbolt"
)

// Algo is the public-key algorithm of a generated list key.
type Algo string

// Algorithms GenerateOpenPGP accepts. All make v4 keys, which GnuPG 2.2 reads.
const (
	// AlgoCurve25519 is an Ed25519 signing primary key with a Curve25519
	// encryption subkey (the default; "" means it too).
	AlgoCurve25519 Algo = "curve25519"
	// AlgoRSA3072 is an RSA-3072 primary key with an RSA-3072 encryption subkey.
	AlgoRSA3072 Algo = "rsa3072"
	// AlgoRSA4096 is an RSA-4096 primary key with an RSA-4096 encryption subkey.
	AlgoRSA4096 Algo = "rsa4096"
)

// maxKeyInput bounds an imported key or certificate file.
const maxKeyInput = 1 << 20

// listRecord is a list's own key of one kind.
type listRecord struct {
	Kind        Kind          `json:"kind"`
	List        string        `json:"list"`
	Fingerprint string        `json:"fingerprint"`
	Created     time.Time     `json:"created"`
	Expires     time.Time     `json:"expires,omitzero"`
	Public      []byte        `json:"public"`          // OpenPGP: transferable public key; X.509: certificate DER
	Chain       [][]byte      `json:"chain,omitempty"` // X.509: issuer certificates
	Secret      *sealedSecret `json:"secret"`          // OpenPGP: the secret key packets; X.509: PKCS#8
	Revoked     time.Time     `json:"revoked,omitzero"`
}

// Fingerprint returns the upper-case hex fingerprint of an OpenPGP key.
func Fingerprint(e *openpgp.Entity) string {
	return strings.ToUpper(hex.EncodeToString(e.PrimaryKey.Fingerprint))
}

// packetConfig is the configuration of key generation and signatures.
func (k *Keyring) packetConfig(algo Algo) (*packet.Config, error) {
	cfg := &packet.Config{DefaultHash: crypto.SHA256, DefaultCipher: packet.CipherAES256, Time: k.now}
	switch algo {
	case "", AlgoCurve25519:
		cfg.Algorithm, cfg.Curve = packet.PubKeyAlgoEdDSA, packet.Curve25519
	case AlgoRSA3072:
		cfg.Algorithm, cfg.RSABits = packet.PubKeyAlgoRSA, 3072
	case AlgoRSA4096:
		cfg.Algorithm, cfg.RSABits = packet.PubKeyAlgoRSA, 4096
	default:
		return nil, fmt.Errorf("unknown key algorithm %q (curve25519, rsa3072, rsa4096)", algo)
	}
	return cfg, nil
}

// GenerateOpenPGP makes a new OpenPGP key for list (its posting address)
// with the user ID "name <list>", stores it with the secret key encrypted
// under the keyring passphrase, and returns its fingerprint. A list that
// already has a key that is not revoked keeps it: revoke it first.
func (k *Keyring) GenerateOpenPGP(list, name string, algo Algo) (string, error) {
	list, err := normAddress(list)
	if err != nil {
		return "", err
	}
	cfg, err := k.packetConfig(algo)
	if err != nil {
		return "", err
	}
	if name == "" {
		name, _, _ = strings.Cut(list, "@")
	}
	if err := k.checkListFree(KindPGP, list); err != nil {
		return "", err
	}
	e, err := openpgp.NewEntity(name, "", list, cfg)
	if err != nil {
		return "", fmt.Errorf("generate key for %s: %w", list, err)
	}
	return k.storeListPGP(list, e)
}

// ImportOpenPGPSecret stores an OpenPGP secret key (armored or binary, with
// its subkeys) as list's key. passphrase unlocks the key as exported (nil
// for an unprotected key); the stored copy is encrypted under the keyring
// passphrase instead.
func (k *Keyring) ImportOpenPGPSecret(list string, data, passphrase []byte) (string, error) {
	list, err := normAddress(list)
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
	if e.PrivateKey == nil {
		return "", errors.New("import: the file holds a public key; a list needs its secret key")
	}
	if err := e.DecryptPrivateKeys(passphrase); err != nil {
		return "", fmt.Errorf("import: unlock the secret key: %w", err)
	}
	if e.PrivateKey.Dummy() {
		return "", errors.New("import: the primary secret key is a stub (exported with --export-secret-subkeys); export it whole")
	}
	if _, err := e.VerifyPrimaryKey(k.now(), nil); err != nil {
		return "", fmt.Errorf("import: %w", err)
	}
	if err := k.checkListFree(KindPGP, list); err != nil {
		return "", err
	}
	return k.storeListPGP(list, e)
}

// checkListFree refuses to replace a list key that is not revoked.
func (k *Keyring) checkListFree(kind Kind, list string) error {
	return k.view(func(tx *bolt.Tx) error {
		var r listRecord
		ok, err := getJSON(tx, bucketList, listKey(kind, list), &r)
		if err != nil || !ok {
			return err
		}
		if r.Revoked.IsZero() && kind == KindPGP {
			return fmt.Errorf("list %s already has OpenPGP key %s: revoke it first", list, r.Fingerprint)
		}
		if kind == KindX509 {
			return fmt.Errorf("list %s already has certificate %s: remove it first", list, r.Fingerprint)
		}
		return nil
	})
}

// storeListPGP seals e's secret key and stores it as list's key.
func (k *Keyring) storeListPGP(list string, e *openpgp.Entity) (string, error) {
	rec, err := k.listPGPRecord(list, e)
	if err != nil {
		return "", err
	}
	err = k.update(func(tx *bolt.Tx) error { return putJSON(tx, bucketList, listKey(KindPGP, list), rec) })
	if err != nil {
		return "", fmt.Errorf("store key of %s: %w", list, err)
	}
	return rec.Fingerprint, nil
}

// listPGPRecord builds the stored form of a list's unlocked key.
func (k *Keyring) listPGPRecord(list string, e *openpgp.Entity) (*listRecord, error) {
	if len(k.passphrase) == 0 {
		return nil, ErrNoPassphrase
	}
	var pub, sec bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		return nil, fmt.Errorf("serialize public key: %w", err)
	}
	if err := e.SerializePrivateWithoutSigning(&sec, nil); err != nil {
		return nil, fmt.Errorf("serialize secret key: %w", err)
	}
	sealed, err := sealSecret(k.passphrase, sec.Bytes(), secretAD(KindPGP, list))
	if err != nil {
		return nil, err
	}
	rec := &listRecord{Kind: KindPGP, List: list, Fingerprint: Fingerprint(e), Created: e.PrimaryKey.CreationTime,
		Public: pub.Bytes(), Secret: sealed}
	if sig, err := e.PrimarySelfSignature(time.Time{}, nil); err == nil && sig.KeyLifetimeSecs != nil && *sig.KeyLifetimeSecs > 0 {
		rec.Expires = e.PrimaryKey.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
	}
	if e.Revoked(k.now()) {
		rec.Revoked = k.now()
	}
	return rec, nil
}

// ListKeyPGP returns list's OpenPGP key, unlocked. Unlocking costs tens of
// milliseconds (Argon2id), so the unlocked key is kept for the life of the
// process and unlocked again only when the stored key changes. The entity
// is shared: callers must not modify it.
func (k *Keyring) ListKeyPGP(list string) (*openpgp.Entity, error) {
	v, err := k.unlock(KindPGP, list, func(rec *listRecord, secret []byte) (any, error) {
		el, err := openpgp.ReadKeyRing(bytes.NewReader(secret))
		if err != nil || len(el) != 1 {
			return nil, fmt.Errorf("stored key of %s does not parse: %v", list, err)
		}
		return el[0], nil
	})
	if err != nil {
		return nil, err
	}
	return v.(*openpgp.Entity), nil
}

// ListPGP is ListKeyPGP under the name the runners' site.Keys uses.
func (k *Keyring) ListPGP(list string) (*openpgp.Entity, error) { return k.ListKeyPGP(list) }

// unlock returns the cached unlocked secret of a list's key, or opens it
// with the keyring passphrase and parses it with parse.
func (k *Keyring) unlock(kind Kind, list string, parse func(*listRecord, []byte) (any, error)) (any, error) {
	list, err := normAddress(list)
	if err != nil {
		return nil, err
	}
	s, err := k.current()
	if err != nil {
		return nil, err
	}
	key := listKey(kind, list)
	rec := s.lists[key]
	if rec == nil || rec.Secret == nil {
		return nil, fmt.Errorf("list %s: %w", list, ErrNoListKey)
	}
	k.mu.Lock()
	u := k.unlocked[key]
	k.mu.Unlock()
	stamp := append(bytes.Clone(rec.Secret.Data), rec.Public...)
	if u != nil && bytes.Equal(u.sealed, stamp) {
		return u.value, nil
	}
	if len(k.passphrase) == 0 {
		return nil, fmt.Errorf("unlock key of %s: %w", list, ErrNoPassphrase)
	}
	secret, err := rec.Secret.open(k.passphrase, secretAD(kind, list))
	if err != nil {
		return nil, fmt.Errorf("unlock key of %s: %w", list, err)
	}
	v, err := parse(rec, secret)
	if err != nil {
		return nil, err
	}
	k.mu.Lock()
	k.unlocked[key] = &unlockedRecord{sealed: stamp, value: v}
	k.mu.Unlock()
	return v, nil
}

// ExportOpenPGP returns list's public key, armored (with its revocation
// once revoked).
func (k *Keyring) ExportOpenPGP(list string) ([]byte, error) {
	rec, err := k.listRecord(KindPGP, list)
	if err != nil {
		return nil, err
	}
	return armorKey(rec.Public)
}

// armorKey armors a transferable public key with the CRC-24 line: GnuPG
// 2.2 finds the end of the base64 by the "=" of padding or checksum, so an
// armor whose data needs no padding and has no checksum fails to import
// there ("invalid radix64 character 2D").
func armorKey(pub []byte) ([]byte, error) {
	var b bytes.Buffer
	w, err := armor.EncodeWithChecksumOption(&b, "PGP PUBLIC KEY BLOCK", nil, true)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(pub); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

// listRecord returns a list's stored record of one kind.
func (k *Keyring) listRecord(kind Kind, list string) (*listRecord, error) {
	list, err := normAddress(list)
	if err != nil {
		return nil, err
	}
	s, err := k.current()
	if err != nil {
		return nil, err
	}
	rec := s.lists[listKey(kind, list)]
	if rec == nil {
		return nil, fmt.Errorf("list %s: %w", list, ErrNoListKey)
	}
	return rec, nil
}

// RevokeList makes a revocation signature for list's OpenPGP key and stores
// it: the exported public key then carries it, so subscribers who import it
// stop encrypting to the key. The list needs a new key afterwards
// (GenerateOpenPGP accepts a revoked key's list).
func (k *Keyring) RevokeList(list string) (string, error) {
	e, err := k.ListKeyPGP(list)
	if err != nil {
		return "", err
	}
	list, _ = normAddress(list)
	if e.Revoked(k.now()) {
		return "", fmt.Errorf("key %s of %s is already revoked", Fingerprint(e), list)
	}
	// Work on a copy: the unlocked entity is shared with other callers.
	var sec bytes.Buffer
	if err := e.SerializePrivateWithoutSigning(&sec, nil); err != nil {
		return "", err
	}
	el, err := openpgp.ReadKeyRing(&sec)
	if err != nil {
		return "", err
	}
	c := el[0]
	cfg, _ := k.packetConfig("")
	if err := c.Revoke(packet.NoReason, "revoked by the list owner", cfg); err != nil {
		return "", fmt.Errorf("revoke key of %s: %w", list, err)
	}
	rec, err := k.listPGPRecord(list, c)
	if err != nil {
		return "", err
	}
	if rec.Revoked.IsZero() {
		rec.Revoked = k.now()
	}
	err = k.update(func(tx *bolt.Tx) error { return putJSON(tx, bucketList, listKey(KindPGP, list), rec) })
	if err != nil {
		return "", fmt.Errorf("store revocation of %s: %w", list, err)
	}
	return rec.Fingerprint, nil
}

// readKeys reads OpenPGP keys, armored or binary, of bounded size.
func readKeys(data []byte) (openpgp.EntityList, error) {
	if len(data) > maxKeyInput {
		return nil, fmt.Errorf("key file of %d bytes is larger than %d", len(data), maxKeyInput)
	}
	var el openpgp.EntityList
	var err error
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		el, err = openpgp.ReadArmoredKeyRing(bytes.NewReader(data))
	} else {
		el, err = openpgp.ReadKeyRing(bytes.NewReader(data))
	}
	if err != nil {
		return nil, fmt.Errorf("read OpenPGP key: %w", err)
	}
	if len(el) == 0 {
		return nil, errors.New("read OpenPGP key: no key in the file")
	}
	return el, nil
}
