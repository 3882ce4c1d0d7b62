package cms

import (
	"bytes"
	"crypto/ecdh"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// examplesDir holds RFC 9216's sample certificates and keys and the CMS
// objects of draft-ireland-examples-cms made with them (see SOURCES.md).
const examplesDir = "testdata/examples-cms"

func readExampleCert(t *testing.T, name string) *x509.Certificate {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

func readExampleKey(t *testing.T, name string) any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(examplesDir, name))
	if err != nil {
		t.Fatal(err)
	}
	b, _ := pem.Decode(data)
	if b == nil {
		t.Fatalf("%s: no PEM block", name)
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return k
}

// TestExamplesX25519 opens the published envelope for Bob (RSA-OAEP) and
// Dana (X25519, RFC 8418) with each one's key, and encrypts to Dana's
// RFC 9216 certificate and back.
func TestExamplesX25519(t *testing.T) {
	dana := readExampleCert(t, "lamps-dana.encrypt.crt")
	danaKey := readExampleKey(t, "lamps-dana.decrypt.p8.pem")
	if _, ok := danaKey.(*ecdh.PrivateKey); !ok {
		t.Fatalf("Dana's key is a %T", danaKey)
	}
	bob := readExampleCert(t, "lamps-bob.encrypt.crt")
	bobKey := readExampleKey(t, "lamps-bob.decrypt.p8.pem")
	env, err := os.ReadFile(filepath.Join(examplesDir, "encryptedForBobAndDana.p7m"))
	if err != nil {
		t.Fatal(err)
	}
	d1, err := Decrypt(env, dana, danaKey)
	if err != nil {
		t.Fatalf("Dana: %v", err)
	}
	d2, err := Decrypt(env, bob, bobKey)
	if err != nil {
		t.Fatalf("Bob: %v", err)
	}
	if !bytes.Equal(d1.Content, d2.Content) || len(d1.Content) == 0 {
		t.Fatalf("Dana read %q, Bob %q", d1.Content, d2.Content)
	}
	t.Logf("content %q", d1.Content)

	if pub, err := PublicKeyOf(dana); err != nil || pub.(*ecdh.PublicKey).Curve() != ecdh.X25519() {
		t.Fatalf("PublicKeyOf(dana) = %v, %v", pub, err)
	}
	for _, c := range []Cipher{AES256CBC, AES256GCM} {
		e, err := Encrypt([]byte("to Dana"), EncryptOptions{Cipher: c})
		if err != nil {
			t.Fatal(err)
		}
		der, err := e.For(dana)
		if err != nil {
			t.Fatalf("%v: encrypt to Dana: %v", c, err)
		}
		got, err := Decrypt(der, dana, danaKey)
		if err != nil || string(got.Content) != "to Dana" {
			t.Fatalf("%v: round trip: %v %q", c, err, got)
		}
		if _, err := Decrypt(der, bob, bobKey); !errors.Is(err, ErrNoRecipient) {
			t.Fatalf("%v: Bob opened Dana's copy: %v", c, err)
		}
	}
}
