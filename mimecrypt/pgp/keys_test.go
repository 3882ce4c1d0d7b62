package pgp

import (
	"sync"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// testKeys caches generated keys: generating is the slow part of the tests.
var testKeys sync.Map

// newKey returns a v4 key for email (curve25519 or rsa3072, optionally
// advertising SEIPDv2), generated once per test binary.
func newKey(t testing.TB, email, algo string, seipdv2 bool) *openpgp.Entity {
	t.Helper()
	id := email + "/" + algo
	if seipdv2 {
		id += "/v2"
	}
	if e, ok := testKeys.Load(id); ok {
		return e.(*openpgp.Entity)
	}
	cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519,
		Time: func() time.Time { return time.Now().Add(-time.Hour) }}
	if algo == "rsa3072" {
		cfg = &packet.Config{Algorithm: packet.PubKeyAlgoRSA, RSABits: 3072,
			Time: func() time.Time { return time.Now().Add(-time.Hour) }}
	}
	if seipdv2 {
		cfg.AEADConfig = &packet.AEADConfig{}
	}
	e, err := openpgp.NewEntity("Test", "", email, cfg)
	if err != nil {
		t.Fatalf("generate %s: %v", id, err)
	}
	testKeys.Store(id, e)
	return e
}

// bound binds key to addrs and nothing else, as a keyring does after a
// proven enrolment or an owner's word.
func bound(key *openpgp.Entity, addrs ...string) Bound {
	return Bound{{Entity: key, Addresses: addrs}}
}

// boundByUserIDs binds each key of a test corpus to the addresses its user
// IDs name. The corpus states whose key each one is, so the test binds them
// as an owner would (key add); Open itself never reads a binding from a
// user ID.
func boundByUserIDs(el openpgp.EntityList) Bound {
	var out Bound
	for _, e := range el {
		k := BoundKey{Entity: e}
		for _, id := range e.Identities {
			if id.UserId.Email != "" {
				k.Addresses = append(k.Addresses, id.UserId.Email)
			}
		}
		out = append(out, k)
	}
	return out
}
