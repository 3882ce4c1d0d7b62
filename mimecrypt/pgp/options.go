// Package pgp opens and produces OpenPGP mail for Cloister: RFC 3156 PGP/MIME
// (signed, encrypted, both), inline PGP, and the list's sign-once,
// encrypt-once fan-out to subscribers.
package pgp

import (
	"slices"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// Default limits used by Open when OpenOptions leaves a limit at zero.
const (
	DefaultMaxDecompressed = 64 << 20 // bytes of plaintext one OpenPGP message may yield
	DefaultMaxKeyPackets   = 1000     // PKESK and SKESK packets in front of the encrypted data (senders write to many)
	DefaultMaxDepth        = 16       // nesting of multiparts
	DefaultMaxParts        = 1000     // MIME entities in one message
)

// KeySource finds senders' public keys by 64-bit key ID (of the primary key
// or of a subkey), each with the addresses its holder was bound to: by a
// proven enrolment or by an owner, as the keyring recorded it. The keyring
// package backs it with its store; Bound is a KeySource whose bindings the
// caller states. Entities returned must be public keys as imported: Open
// verifies their self-signatures itself.
//
// The binding is the only thing that ties a key to an address: the user IDs
// a key carries are claims of whoever made it, and prove nothing. A good
// signature by a key that is not bound to the From address is judged
// signer-mismatch.
type KeySource interface {
	SenderKeys(id uint64) []BoundKey
}

// BoundKey is a sender's public key and the addresses it is bound to.
type BoundKey struct {
	Entity *openpgp.Entity
	// Addresses are the addr-specs the key is bound to, compared without
	// regard to case. A key bound to none authenticates no one.
	Addresses []string
}

// Bound is a KeySource of keys whose bindings the caller states: each key
// is bound to its listed addresses and to nothing else.
type Bound []BoundKey

// SenderKeys returns the keys of b holding the key ID.
func (b Bound) SenderKeys(id uint64) []BoundKey {
	var out []BoundKey
	for _, k := range b {
		if k.Entity != nil && len(openpgp.EntityList{k.Entity}.KeysById(id)) > 0 {
			out = append(out, k)
		}
	}
	return out
}

// OpenOptions says with which keys, at what time and within which bounds a
// message is opened.
type OpenOptions struct {
	// ListKeys are the list's secret keys, already unlocked. Every one is
	// tried for hidden recipients (wildcard key IDs).
	ListKeys openpgp.EntityList
	// Senders looks up the public keys of signers. Nil means no signer is known.
	Senders KeySource
	// KeepUnknownSignature keeps a signature made inside the encryption by
	// a key the senders do not hold, as multipart/signed around the opened
	// content (verdict unknown-key, as without it), so that a later check
	// with a key not yet on file can verify it: the answer to a key-set
	// challenge, signed and encrypted in one message by the offered key.
	KeepUnknownSignature bool
	// Now is the time at which key expiry and revocation are judged; zero
	// means time.Now().
	Now time.Time

	MaxDecompressed int64 // plaintext bytes one OpenPGP message may yield
	MaxKeyPackets   int   // PKESK+SKESK packets accepted in front of the encrypted data
	MaxDepth        int   // MIME multipart nesting
	MaxParts        int   // MIME entities in all
}

// withDefaults returns o with zero limits and time replaced by defaults.
func (o OpenOptions) withDefaults() OpenOptions {
	if o.Now.IsZero() {
		o.Now = time.Now()
	}
	if o.MaxDecompressed <= 0 {
		o.MaxDecompressed = DefaultMaxDecompressed
	}
	if o.MaxKeyPackets <= 0 {
		o.MaxKeyPackets = DefaultMaxKeyPackets
	}
	if o.MaxDepth <= 0 {
		o.MaxDepth = DefaultMaxDepth
	}
	if o.MaxParts <= 0 {
		o.MaxParts = DefaultMaxParts
	}
	return o
}

// config returns the packet configuration Open uses: the judging time, the
// decompression bound, and the library's default algorithm policy (which
// refuses SHA-1 message signatures and unauthenticated encryption). The
// library's bound (per compression layer) sits a little above Open's own
// bound on the plaintext, so that Open's is the one that reports.
func (o OpenOptions) config() *packet.Config {
	now := o.Now
	limit := o.MaxDecompressed + 1<<16
	return &packet.Config{
		Time:                       func() time.Time { return now },
		MaxDecompressedMessageSize: &limit,
	}
}

// ring is the key ring handed to the library: the list's secret keys for
// decryption, and the sender key source for signatures. A wildcard key ID
// (hidden recipient) only ever reaches the list keys. It remembers the
// binding of every sender key it handed out, by entity, so that a good
// signature is judged against the addresses of the very key that made it.
type ring struct {
	list    openpgp.EntityList
	senders KeySource
	bound   map[*openpgp.Entity][]string
}

// newRing returns the ring of one Open call.
func newRing(list openpgp.EntityList, senders KeySource) *ring {
	return &ring{list: list, senders: senders, bound: map[*openpgp.Entity][]string{}}
}

// EntitiesById returns list keys and sender keys holding the key ID.
func (r *ring) EntitiesById(id uint64) []*openpgp.Entity {
	es := r.list.EntitiesById(id)
	if id != 0 && r.senders != nil {
		for _, k := range r.senders.SenderKeys(id) {
			if k.Entity == nil {
				continue
			}
			for _, a := range k.Addresses {
				if !slices.Contains(r.bound[k.Entity], a) {
					r.bound[k.Entity] = append(r.bound[k.Entity], a)
				}
			}
			es = append(es, k.Entity)
		}
	}
	return es
}

// KeysById returns the keys with the given ID in EntitiesById's entities.
func (r *ring) KeysById(id uint64) []openpgp.Key {
	var keys []openpgp.Key
	for _, e := range r.EntitiesById(id) {
		keys = append(keys, openpgp.EntityList{e}.KeysById(id)...)
	}
	return keys
}

// boundAddresses returns the lower-cased addresses the sender key source
// bound ent to, without duplicates; none for a list key or an entity it
// did not hand out.
func (r *ring) boundAddresses(ent *openpgp.Entity) []string {
	var out []string
	for _, a := range r.bound[ent] {
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	return out
}
