package pgp

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"testing"

	"github.com/cloudflare/circl/dh/x25519"
)

// TestShared25519AsECDH: shared25519 answers as crypto/ecdh's X25519 does,
// for random keys and for the points of low order (all-zero results are
// errors for both), and refuses a point of another length.
func TestShared25519AsECDH(t *testing.T) {
	lowOrder := [][]byte{
		make([]byte, 32),
		append([]byte{1}, make([]byte, 31)...),
		// RFC 7748's order-8 point.
		{0xe0, 0xeb, 0x7a, 0x7c, 0x3b, 0x41, 0xb8, 0xae, 0x16, 0x56, 0xe3, 0xfa, 0xf1, 0x9f, 0xc4, 0x6a,
			0xda, 0x09, 0x8d, 0xeb, 0x9c, 0x32, 0xb1, 0xfd, 0x86, 0x62, 0x05, 0x16, 0x5f, 0x49, 0xb8, 0x00},
	}
	for i := range 200 {
		priv, err := ecdh.X25519().GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		var scalar x25519.Key
		copy(scalar[:], priv.Bytes())
		point := make([]byte, 32)
		if i < len(lowOrder) {
			point = lowOrder[i]
		} else if _, err := rand.Read(point); err != nil {
			t.Fatal(err)
		}
		got, gerr := shared25519(&scalar, point)
		var want []byte
		pub, werr := ecdh.X25519().NewPublicKey(point)
		if werr == nil {
			want, werr = priv.ECDH(pub)
		}
		if (gerr == nil) != (werr == nil) || !bytes.Equal(got, want) {
			t.Fatalf("point %x: shared25519 %x %v, crypto/ecdh %x %v", point, got, gerr, want, werr)
		}
		if i < len(lowOrder) && gerr == nil {
			t.Fatalf("low-order point %x accepted", point)
		}
	}
	var scalar x25519.Key
	if _, err := shared25519(&scalar, make([]byte, 31)); err == nil {
		t.Fatal("a 31-byte point accepted")
	}
}
