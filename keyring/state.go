package keyring

import (
	"errors"
	"fmt"
	"time"

	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// State is what a key is good for at a given time.
type State string

// States of a key, worst first.
const (
	StateRevoked      State = "revoked"
	StateExpired      State = "expired"
	StateNoEncryption State = "no-encryption-key"
	StateNoSigning    State = "no-signing-key"
	StateInvalid      State = "invalid"
	StateOK           State = "ok"
)

// pgpState judges an OpenPGP key at now: its state, what it can be used
// for ("sign", "encrypt"), and when it expires (zero for never).
func pgpState(e *openpgp.Entity, now time.Time) (State, []string, time.Time) {
	var expires time.Time
	if sig, err := e.PrimarySelfSignature(time.Time{}, nil); err == nil && sig != nil && sig.KeyLifetimeSecs != nil && *sig.KeyLifetimeSecs > 0 {
		expires = e.PrimaryKey.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
	}
	if err := pgpEncryptable(e, now); err != nil {
		switch {
		case errors.Is(err, ErrRevoked):
			return StateRevoked, nil, expires
		case errors.Is(err, ErrExpired):
			return StateExpired, nil, expires
		case errors.Is(err, ErrNoEncryptionSubkey):
			if _, ok := e.SigningKey(now, nil); ok {
				return StateNoEncryption, []string{"sign"}, expires
			}
			return StateNoEncryption, nil, expires
		default:
			return StateInvalid, nil, expires
		}
	}
	if _, ok := e.SigningKey(now, nil); !ok {
		return StateNoSigning, []string{"encrypt"}, expires
	}
	return StateOK, []string{"sign", "encrypt"}, expires
}

// pgpEncryptable says why e cannot be encrypted to at now, with the typed
// errors of this package; nil if it can.
func pgpEncryptable(e *openpgp.Entity, now time.Time) error {
	switch _, err := e.VerifyPrimaryKey(now, nil); {
	case errors.Is(err, pgperrors.ErrKeyRevoked):
		return ErrRevoked
	case errors.Is(err, pgperrors.ErrKeyExpired):
		return ErrExpired
	case err != nil:
		return fmt.Errorf("no valid self-signature: %w", err)
	}
	if _, err := e.EncryptionKeyWithError(now, nil); err != nil {
		return fmt.Errorf("%w (%s)", ErrNoEncryptionSubkey, subkeyReason(e, now))
	}
	return nil
}

// subkeyReason says what became of e's encryption subkeys at now.
func subkeyReason(e *openpgp.Entity, now time.Time) string {
	expired, revoked, n := 0, 0, 0
	for i := range e.Subkeys {
		s := &e.Subkeys[i]
		sig, err := s.LatestValidBindingSignature(time.Time{}, nil)
		if err != nil || sig == nil || !sig.FlagsValid || !(sig.FlagEncryptCommunications || sig.FlagEncryptStorage) {
			continue
		}
		n++
		switch {
		case s.Revoked(sig, now):
			revoked++
		case s.Expired(sig, now):
			expired++
		}
	}
	switch {
	case n == 0:
		return "the key has no encryption subkey"
	case expired == n:
		return "its encryption subkey has expired"
	case revoked == n:
		return "its encryption subkey is revoked"
	case expired+revoked == n:
		return "its encryption subkeys are expired or revoked"
	default:
		return "its encryption subkeys are not usable (algorithm or binding)"
	}
}
