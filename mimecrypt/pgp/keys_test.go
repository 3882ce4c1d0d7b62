package pgp

import (
	"fmt"
	"os"
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
	if algo == "rsa3072" && !seipdv2 {
		fixtures, err := rsaFixtures()
		if err != nil {
			t.Fatal(err)
		}
		if e := fixtures[email]; e != nil {
			e, _ := testKeys.LoadOrStore(id, e)
			return e.(*openpgp.Entity)
		}
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

// rsaFixtures returns the RSA-3072 keys of testdata/rsa3072.asc by email:
// keys made by testdata/genrsa.go exactly as newKey makes one, for the
// tests only, so that newKey does not spend a second or more of CPU on
// each (Go's RSA-3072 generation; eight of them were most of the
// package's time). An address missing from the file gets a key generated.
var rsaFixtures = sync.OnceValues(func() (map[string]*openpgp.Entity, error) {
	f, err := os.Open("testdata/rsa3072.asc")
	if err != nil {
		return nil, fmt.Errorf("RSA test keys: %w", err)
	}
	defer f.Close()
	el, err := openpgp.ReadArmoredKeyRing(f)
	if err != nil {
		return nil, fmt.Errorf("RSA test keys: %w", err)
	}
	out := map[string]*openpgp.Entity{}
	for _, e := range el {
		for _, id := range e.Identities {
			out[id.UserId.Email] = e
		}
	}
	return out, nil
})

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
