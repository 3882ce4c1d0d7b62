package keyring

import (
	"fmt"
	"strings"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// archivePrefix marks the name under which a list's archive key is stored:
// a keypair of its own, separate from the list key, so that the archive
// does not open with the key that decrypts incoming posts and can be
// replaced on its own.
const archivePrefix = "archive:"

// ArchiveName returns the name under which the archive key of list is
// stored among the list keys ("archive:team@lists.example.org"); `cloister
// key ls` shows it under that name.
func ArchiveName(list string) string {
	return archivePrefix + strings.ToLower(strings.TrimSpace(list))
}

// GenerateArchiveKey makes the OpenPGP archive key of list (Ed25519 with a
// Curve25519 encryption subkey, user ID "LOCAL archive <list>"), stores it
// with its secret sealed under the keyring passphrase like a list key, and
// returns its fingerprint. A list whose archive key is not revoked keeps it.
func (k *Keyring) GenerateArchiveKey(list string) (string, error) {
	list, err := normAddress(list)
	if err != nil {
		return "", err
	}
	name := ArchiveName(list)
	if err := k.checkListFree(KindPGP, name); err != nil {
		return "", err
	}
	cfg, err := k.packetConfig(AlgoCurve25519)
	if err != nil {
		return "", err
	}
	local, _, _ := strings.Cut(list, "@")
	e, err := openpgp.NewEntity(local+" archive", "", list, cfg)
	if err != nil {
		return "", fmt.Errorf("generate archive key for %s: %w", list, err)
	}
	return k.storeListPGP(name, e)
}

// ArchiveKey returns the public archive key of list, for encryption; it
// needs no passphrase. The error wraps ErrNoListKey when there is none.
func (k *Keyring) ArchiveKey(list string) (*openpgp.Entity, error) {
	rec, err := k.listRecord(KindPGP, ArchiveName(list))
	if err != nil {
		return nil, err
	}
	if !rec.Revoked.IsZero() {
		return nil, fmt.Errorf("archive key of %s is revoked: %w", list, ErrNoListKey)
	}
	el, err := readKeys(rec.Public)
	if err != nil {
		return nil, fmt.Errorf("archive key of %s: %w", list, err)
	}
	return el[0], nil
}

// ArchiveSecretKey returns the archive key of list unlocked with the
// keyring passphrase, to read the archive. The entity is shared: callers
// must not modify it.
func (k *Keyring) ArchiveSecretKey(list string) (*openpgp.Entity, error) {
	return k.ListKeyPGP(ArchiveName(list))
}
