package pgp

import (
	"crypto/rsa"
	"testing"
	"time"
)

// TestRSAFixtures checks the committed RSA test keys are what newKey would
// generate: a v4 RSA-3072 primary with one user ID, not advertising
// SEIPDv2, a valid signing key and an RSA-3072 encryption subkey, and a
// secret key present.
func TestRSAFixtures(t *testing.T) {
	fixtures, err := rsaFixtures()
	if err != nil {
		t.Fatal(err)
	}
	if len(fixtures) == 0 {
		t.Fatal("no RSA test keys in testdata/rsa3072.asc")
	}
	now := time.Now()
	for email, e := range fixtures {
		t.Run(email, func(t *testing.T) {
			pub, ok := e.PrimaryKey.PublicKey.(*rsa.PublicKey)
			if !ok || pub.N.BitLen() != 3072 || e.PrimaryKey.Version != 4 {
				t.Fatalf("primary key %T v%d, want v4 RSA-3072", e.PrimaryKey.PublicKey, e.PrimaryKey.Version)
			}
			if e.PrivateKey == nil || e.PrivateKey.Encrypted {
				t.Fatal("no usable secret key")
			}
			if len(e.Identities) != 1 {
				t.Fatalf("%d user IDs, want 1", len(e.Identities))
			}
			sig, err := e.PrimarySelfSignature(now, nil)
			if err != nil {
				t.Fatal(err)
			}
			if sig.SEIPDv2 {
				t.Fatal("advertises SEIPDv2")
			}
			if _, ok := e.SigningKey(now, nil); !ok {
				t.Fatal("no signing key valid now")
			}
			k, ok := e.EncryptionKey(now, nil)
			if !ok {
				t.Fatal("no encryption key valid now")
			}
			if sub, ok := k.PublicKey.PublicKey.(*rsa.PublicKey); !ok || sub.N.BitLen() != 3072 {
				t.Fatalf("encryption key %T, want RSA-3072", k.PublicKey.PublicKey)
			}
		})
	}
}
