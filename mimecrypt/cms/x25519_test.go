package cms

import (
	"bytes"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"testing"
)

// TestX25519Malformed: malformed X25519 keys, in certificates and in
// envelopes, get clear errors.
func TestX25519Malformed(t *testing.T) {
	dana := readExampleCert(t, "lamps-dana.encrypt.crt")
	danaKey := readExampleKey(t, "lamps-dana.decrypt.p8.pem")
	spki := func(oid []byte, key []byte) []byte {
		return tlv(0x30, tlv(0x30, oid), tlv(0x03, append([]byte{0}, key...)))
	}
	x25519OID, x448OID := mustMarshal(oidX25519), mustMarshal([]int{1, 3, 101, 111})
	for _, tc := range []struct {
		name string
		spki []byte
		want error
	}{
		{"truncated X25519 key", spki(x25519OID, make([]byte, 31)), ErrMalformed},
		{"X25519 key too long", spki(x25519OID, make([]byte, 33)), ErrMalformed},
		{"X448 key", spki(x448OID, make([]byte, 56)), ErrUnsupported},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cert := &x509.Certificate{RawSubjectPublicKeyInfo: tc.spki}
			if _, err := PublicKeyOf(cert); !errors.Is(err, tc.want) {
				t.Fatalf("PublicKeyOf: %v, want %v", err, tc.want)
			}
			e, err := Encrypt([]byte("x"), EncryptOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := e.RecipientInfo(cert); !errors.Is(err, tc.want) {
				t.Fatalf("RecipientInfo: %v, want %v", err, tc.want)
			} else {
				t.Log(err)
			}
		})
	}

	// The originator key of an envelope for Dana, altered.
	priv := danaKey.(*ecdh.PrivateKey)
	p256, _ := ecdh.P256().GenerateKey(rand.Reader)
	for _, tc := range []struct {
		name    string
		origAlg []int
		origPub []byte
		want    error
	}{
		{"truncated originator key", []int{1, 3, 101, 110}, make([]byte, 31), ErrMalformed},
		{"P-256 point for an X25519 recipient", []int{1, 3, 101, 110}, p256.PublicKey().Bytes(), ErrMalformed},
		{"id-ecPublicKey originator for an X25519 recipient", []int{1, 2, 840, 10045, 2, 1}, make([]byte, 32), ErrMalformed},
		{"low-order originator point", []int{1, 3, 101, 110}, make([]byte, 32), ErrDecrypt},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wrap := tlv(0x30, mustMarshal(oidAES256Wrap))
			_, err := decryptKeyAgree(priv, tc.origAlg, tc.origPub, nil, oidStdDHSHA256KDF, wrap, make([]byte, 40))
			if !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
			t.Log(err)
		})
	}

	// Whole envelopes: id-X25519 changed to id-X448 in the originator.
	e, err := Encrypt([]byte("to Dana"), EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	der, err := e.For(dana)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Count(der, x25519OID) != 1 {
		t.Fatalf("the envelope holds id-X25519 %d times", bytes.Count(der, x25519OID))
	}
	bad := bytes.Replace(der, x25519OID, x448OID, 1)
	if _, err := Decrypt(bad, dana, danaKey); !errors.Is(err, ErrMalformed) {
		t.Fatalf("X448 originator: %v", err)
	}
	// A P-256 key cannot open an envelope for Dana.
	if _, err := Decrypt(der, dana, p256); !errors.Is(err, ErrMalformed) {
		t.Fatalf("P-256 key: %v", err)
	}
}
