package keyring

import (
	"fmt"
	"slices"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// SigningKeyPGP returns, of the OpenPGP keys bound to address, the newest
// that can sign at now (not revoked, not expired, with a usable signing
// key), whether or not it can be encrypted to: the key whose signature
// proves its holder, so the one that must sign a change of it. Otherwise
// the error wraps ErrNoKey. The entity is shared: callers must not modify
// it.
func (k *Keyring) SigningKeyPGP(address string, now time.Time) (*openpgp.Entity, error) {
	addr, err := normAddress(address)
	if err != nil {
		return nil, err
	}
	s, err := k.current()
	if err != nil {
		return nil, err
	}
	var best *openpgp.Entity
	for _, fpr := range s.pgpAddr[addr] {
		r := s.pgp[fpr]
		if r == nil {
			continue
		}
		p, err := k.pgpParsed(r, now)
		if err != nil {
			return nil, err
		}
		p.mu.Lock() // go-crypto's lazy checks in the shared entity
		_, usable, _ := pgpState(p.entity, now)
		p.mu.Unlock()
		if !slices.Contains(usable, "sign") {
			continue
		}
		if best == nil || p.entity.PrimaryKey.CreationTime.After(best.PrimaryKey.CreationTime) {
			best = p.entity
		}
	}
	if best == nil {
		return nil, fmt.Errorf("%s: %w: no bound key can sign", addr, ErrNoKey)
	}
	return best, nil
}
