package keyring

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"cloister/mimecrypt/smime"
)

// TestAddX25519Cert: RFC 9216's X25519 certificate for Dana (RFC 8410) is
// taken for encryption, where it used to be refused with an error ending in
// "<nil>", and is then the address's encryption certificate; Carlos's
// Ed25519 certificate can sign only.
func TestAddX25519Cert(t *testing.T) {
	dana, err := os.ReadFile("../mimecrypt/cms/testdata/examples-cms/lamps-dana.encrypt.crt")
	if err != nil {
		t.Fatal(err)
	}
	carlos, err := os.ReadFile("../mimecrypt/cms/testdata/examples-cms/lamps-carlos.crt")
	if err != nil {
		t.Fatal(err)
	}
	k := newKeyring(t)
	if _, err := k.AddCert("dana@smime.example", dana, UseEncrypt); err != nil {
		t.Fatalf("add Dana's X25519 certificate: %v", err)
	}
	c, err := k.EncryptionCert("dana@smime.example", time.Now())
	if err != nil || c == nil {
		t.Fatalf("EncryptionCert: %v", err)
	}
	if _, err := k.AddCert("carlos@smime.example", carlos, UseEncrypt); !errors.Is(err, smime.ErrKeyType) {
		t.Fatalf("Ed25519 certificate added for encryption: %v", err)
	}
	if _, err := k.AddCert("carlos@smime.example", carlos, UseSign); err != nil {
		t.Fatalf("add Carlos's Ed25519 signing certificate: %v", err)
	}
}

// TestImportX25519ListKey: a list cannot have an X25519 certificate (it
// signs its copies with its one key); the import says so, rather than
// that the key does not belong to the certificate.
func TestImportX25519ListKey(t *testing.T) {
	cert, err := os.ReadFile("../mimecrypt/cms/testdata/examples-cms/lamps-dana.encrypt.crt")
	if err != nil {
		t.Fatal(err)
	}
	key, err := os.ReadFile("../mimecrypt/cms/testdata/examples-cms/lamps-dana.decrypt.p8.pem")
	if err != nil {
		t.Fatal(err)
	}
	k := newKeyring(t)
	_, err = k.ImportSMIME("dana@smime.example", append(cert, key...), "")
	if err == nil || !strings.Contains(err.Error(), "cannot sign") {
		t.Fatalf("import of an X25519 list key: %v", err)
	}
}
