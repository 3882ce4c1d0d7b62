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
