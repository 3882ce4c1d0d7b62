package smime

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"testing"

	"cloister/mimecrypt"
)

// examplesDir holds RFC 9216's sample certificates and the CMS objects of
// draft-ireland-examples-cms made with them (see cms/testdata/examples-cms/SOURCES.md).
const examplesDir = "../cms/testdata/examples-cms"

// TestExamplesSignatures opens the published opaque signatures of Carlos
// (Ed25519, RFC 8419) and Alice (RSASSA-PSS, RFC 4056), made by an
// implementation this project does not otherwise test with. Their CAs are
// not published beside them: each signer's certificate is the trust anchor.
func TestExamplesSignatures(t *testing.T) {
	for _, tc := range []struct{ file, cert, from string }{
		{"signedByCarlosEd25519.p7m", "lamps-carlos.crt", "carlos@smime.example"},
		{"signedByAliceRSAPSS.p7m", "lamps-alice.crt", "alice@smime.example"},
	} {
		t.Run(tc.file, func(t *testing.T) {
			der, err := os.ReadFile(filepath.Join(examplesDir, tc.file))
			if err != nil {
				t.Fatal(err)
			}
			pemCert, err := os.ReadFile(filepath.Join(examplesDir, tc.cert))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := pem.Decode(pemCert)
			cert, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				t.Fatal(err)
			}
			hdr := "From: " + tc.from + "\r\nTo: team@lists.example.test\r\nSubject: sample\r\n"
			msg := append([]byte(hdr), opaqueEntity(der)...)
			res, err := Open(msg, OpenOptions{Roots: pool(cert)})
			if err != nil || res.Verdict != mimecrypt.VerdictGood {
				t.Fatalf("%v %s %q", err, res.Verdict, res.Reason)
			}
			if !bytes.Contains(shown(res.Message), []byte("This is some sample content.")) {
				t.Fatalf("content:\n%s", res.Message)
			}
			// One byte of the signed content changed: bad.
			altered := bytes.Replace(der, []byte("sample content"), []byte("simple content"), 1)
			res, _ = Open(append([]byte(hdr), opaqueEntity(altered)...), OpenOptions{Roots: pool(cert)})
			if res.Verdict != mimecrypt.VerdictBad {
				t.Fatalf("altered: %s %q", res.Verdict, res.Reason)
			}
		})
	}
}
