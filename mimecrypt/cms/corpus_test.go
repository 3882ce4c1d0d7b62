package cms

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"cloister/internal/testdirs"

	"software.sslmate.com/src/go-pkcs12"
)

// smimeBody returns the decoded base64 body of a single-part S/MIME file.
func smimeBody(t *testing.T, path string) []byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.ReplaceAll(raw, []byte("\r\n"), []byte("\n"))
	i := bytes.Index(raw, []byte("\n\n"))
	if i < 0 {
		t.Fatalf("%s: no header/body separator", path)
	}
	body := bytes.Map(func(r rune) rune {
		if r == '\n' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, raw[i+2:])
	der, err := base64.StdEncoding.DecodeString(string(body))
	if err != nil {
		t.Fatalf("%s: base64: %v", path, err)
	}
	return der
}

// TestCorpusOpenSSL decrypts the OpenSSL-made interop files of the corpus:
// RSA-OAEP with 3DES, and ECDH (sha512 KDF) with AES-256-CBC.
func TestCorpusOpenSSL(t *testing.T) {
	dir := filepath.Join(testdirs.Corpus(t), "thunderbird-smime")
	type idPair struct {
		cert *x509.Certificate
		key  any
	}
	keys := map[string]idPair{}
	for _, tc := range []struct{ msg, p12 string }{
		{"fran-oaep_ossl.env", "Fran.p12"},
		{"fran-ec_ossl-aes256-sha512.env", "Fran-ec.p12"},
	} {
		p12, err := os.ReadFile(filepath.Join(dir, "keys", tc.p12))
		if err != nil {
			t.Fatal(err)
		}
		key, cert, _, err := pkcs12.DecodeChain(p12, "nss")
		if err != nil {
			t.Fatalf("%s: %v", tc.p12, err)
		}
		got, err := Decrypt(smimeBody(t, filepath.Join(dir, "msgs", tc.msg)), cert, key)
		if err != nil {
			t.Fatalf("%s: %v", tc.msg, err)
		}
		if !bytes.Contains(got.Content, []byte("This is a test message to Fran.")) {
			t.Fatalf("%s: decrypted content: %q", tc.msg, got.Content)
		}
		keys[tc.p12] = idPair{cert, key}
	}
	// Each file is addressed to one of the two: the other key must not open it.
	for _, tc := range []struct{ msg, p12 string }{
		{"fran-oaep_ossl.env", "Fran-ec.p12"},
		{"fran-ec_ossl-aes256-sha512.env", "Fran.p12"},
	} {
		k := keys[tc.p12]
		if _, err := Decrypt(smimeBody(t, filepath.Join(dir, "msgs", tc.msg)), k.cert, k.key); !errors.Is(err, ErrNoRecipient) {
			t.Fatalf("%s with %s: got %v, want ErrNoRecipient", tc.msg, tc.p12, err)
		}
	}
}
