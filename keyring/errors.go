package keyring

import (
	"errors"

	"cloister/mimecrypt/pgp"
)

// Errors that say why a key cannot be used. Lookups wrap them with the
// address and fingerprint; OpenPGP lookup errors also wrap
// pgp.ErrNoEncryptionKey, so that callers of the mimecrypt layer need test
// only that.
var (
	// ErrNoKey means there is no key or certificate for the address.
	ErrNoKey = errors.New("no key")
	// ErrExpired means the key or certificate has expired (or is not yet valid).
	ErrExpired = errors.New("key expired")
	// ErrRevoked means the key or certificate is revoked.
	ErrRevoked = errors.New("key revoked")
	// ErrNoEncryptionSubkey means the key has no encryption subkey usable now
	// (none, or each one expired, revoked or too weak), or the certificate's
	// key usage does not allow encryption.
	ErrNoEncryptionSubkey = errors.New("no usable encryption key")
	// ErrNoSigningSubkey means the key cannot sign now.
	ErrNoSigningSubkey = errors.New("no usable signing key")
	// ErrNoListKey means the list has no key of the kind asked for.
	ErrNoListKey = errors.New("the list has no key of this kind")
	// ErrNotBound means no user ID or certificate address carries the
	// member's address and no owner bound the key to it.
	ErrNotBound = errors.New("key does not carry the address")
	// ErrNotTrusted means a certificate does not chain to the site's trust anchors.
	ErrNotTrusted = errors.New("certificate does not chain to a trust anchor")
)

// pgpLookupErr is the second error OpenPGP lookup failures wrap.
var pgpLookupErr = pgp.ErrNoEncryptionKey
