package pgp

import (
	"errors"
	"fmt"
	"time"

	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// ErrNoEncryptionKey means a recipient's key has no usable encryption key:
// it, or every encryption subkey, is expired, revoked, too weak, or missing.
var ErrNoEncryptionKey = errors.New("no usable encryption key")

// EncryptionKey returns the encryption (sub)key of e to use at now, and
// whether e advertises SEIPDv2 (RFC 9580 AEAD) in its features. The error
// wraps ErrNoEncryptionKey and names the key and why it cannot be used.
func EncryptionKey(e *openpgp.Entity, now time.Time, cfg *packet.Config) (openpgp.Key, bool, error) {
	if e == nil || e.PrimaryKey == nil {
		return openpgp.Key{}, false, fmt.Errorf("empty key: %w", ErrNoEncryptionKey)
	}
	id := func() string { return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint) }
	switch _, err := e.VerifyPrimaryKey(now, cfg); {
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return openpgp.Key{}, false, fmt.Errorf("key %s is revoked: %w", id(), ErrNoEncryptionKey)
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return openpgp.Key{}, false, fmt.Errorf("key %s has expired: %w", id(), ErrNoEncryptionKey)
	case err != nil:
		return openpgp.Key{}, false, fmt.Errorf("key %s is not valid (%v): %w", id(), err, ErrNoEncryptionKey)
	}
	k, err := e.EncryptionKeyWithError(now, cfg)
	if err != nil {
		return openpgp.Key{}, false, fmt.Errorf("key %s has no valid encryption subkey (%v): %w", id(), err, ErrNoEncryptionKey)
	}
	v2 := false
	if sig, err := e.PrimarySelfSignature(now, cfg); err == nil && sig != nil {
		v2 = sig.SEIPDv2
	}
	return k, v2, nil
}
