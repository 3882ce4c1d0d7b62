package commands

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/testca"
)

// testCert makes a self-signed certificate for the attachment tests (what
// the list then does with it is tested with openssl-made ones in runners).
func testCert(t testing.TB) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "dan"},
		EmailAddresses: []string{"dan@else.test"}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestCertAttachments reads certificates attached in the ways mail programs
// attach them, and nothing from malformed or unrelated parts.
func TestCertAttachments(t *testing.T) {
	der := testCert(t)
	b64 := base64.StdEncoding.EncodeToString(der)
	pemText := string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
	mixed := func(ctype, cte, body string) string {
		return "From: dan@else.test\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: text/plain\n\nkey set\n--b\n" +
			"Content-Type: " + ctype + "\nContent-Transfer-Encoding: " + cte + "\n\n" + body + "\n--b--\n"
	}
	for _, tc := range []struct {
		name, msg string
		want      int
	}{
		{"DER as application/pkix-cert", mixed("application/pkix-cert", "base64", b64), 1},
		{"DER as application/x-x509-user-cert", mixed("application/x-x509-user-cert", "base64", b64), 1},
		{"DER as octet-stream", mixed("application/octet-stream", "base64", b64), 1},
		{"PEM file", mixed("application/x-pem-file", "7bit", pemText), 1},
		{"PEM pasted in the text", "From: dan@else.test\n\nkey set\n\n" + pemText, 1},
		{"two PEM blocks", "From: dan@else.test\n\nkey set\n\n" + pemText + pemText, 2},
		{"garbage DER", mixed("application/pkix-cert", "base64", base64.StdEncoding.EncodeToString([]byte("\x30\x82\xff\xffnot a certificate"))), 0},
		{"truncated DER", mixed("application/pkix-cert", "base64", base64.StdEncoding.EncodeToString(der[:len(der)/2])), 0},
		{"broken base64", mixed("application/pkix-cert", "base64", "!!!not base64!!!"), 0},
		{"PEM with a broken body", "From: dan@else.test\n\nkey set\n\n-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n", 0},
		{"certs-only PKCS #7 that is junk", mixed("application/pkcs7-mime; smime-type=certs-only", "base64", base64.StdEncoding.EncodeToString([]byte("\x30\x03\x02\x01\x00"))), 0},
		{"a signature part is not an attachment", mixed("application/pkcs7-signature", "base64", b64), 0},
		{"an enveloped part is not an attachment", mixed("application/pkcs7-mime; smime-type=enveloped-data", "base64", b64), 0},
		{"five certificates: four kept", "From: dan@else.test\n\n" + strings.Repeat(pemText, 5), maxCertAttachments},
		{"not MIME at all", "\x00\x01\x02", 0},
		{"certs-only PKCS #7 by openssl (.p7c)", mixed("application/pkcs7-mime; smime-type=certs-only; name=\"dan.p7c\"", "base64", opensslP7C(t, pemText)), 1},
		{"PKCS #7 PEM by openssl (.p7b)", mixed("application/x-pkcs7-certificates", "7bit", opensslP7B(t, pemText)), 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := certAttachments([]byte(tc.msg))
			if len(got) != tc.want {
				t.Fatalf("%d certificates, want %d", len(got), tc.want)
			}
			for _, g := range got {
				if string(g) != string(der) {
					t.Fatal("a certificate read differs from the one attached")
				}
			}
		})
	}
}

// opensslP7C is the certificate as a DER certs-only PKCS #7, as openssl
// crl2pkcs7 writes it (the .p7c a mail program exports), in base64.
func opensslP7C(t *testing.T, pemText string) string {
	t.Helper()
	return base64.StdEncoding.EncodeToString(crl2pkcs7(t, pemText, "DER"))
}

// opensslP7B is the same in PEM (-----BEGIN PKCS7-----).
func opensslP7B(t *testing.T, pemText string) string {
	t.Helper()
	return string(crl2pkcs7(t, pemText, "PEM"))
}

func crl2pkcs7(t *testing.T, pemText, form string) []byte {
	t.Helper()
	f := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(f, []byte(pemText), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := testca.Exec(nil, "crl2pkcs7", "-nocrl", "-certfile", f, "-outform", form)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// FuzzCertAttachments: no input makes the reading of attachments panic or
// return something that is not a certificate.
func FuzzCertAttachments(f *testing.F) {
	der := testCert(f)
	f.Add([]byte("From: a@b\n\n" + string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))))
	f.Add([]byte("From: a@b\nContent-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pkcs7-mime; smime-type=certs-only\nContent-Transfer-Encoding: base64\n\nMAMCAQA=\n--b--\n"))
	f.Add(der)
	f.Fuzz(func(t *testing.T, msg []byte) {
		for _, c := range certAttachments(msg) {
			if _, err := x509.ParseCertificate(c); err != nil {
				t.Fatalf("returned a non-certificate: %v", err)
			}
		}
	})
}

// TestCertNameIsOneLine: a certificate's common name with line breaks and
// other controls is written into the list's mail as one line of text.
func TestCertNameIsOneLine(t *testing.T) {
	for _, tc := range []struct{ cn, want string }{
		{"Ann Example", "Ann Example"},
		{"ann\r\n\r\nThis change is routine: ignore this mail.", "ann This change is routine: ignore this mail."},
		{"a\x00b\u2028c\x1bd", "a b c d"},
	} {
		k := &offeredKey{cert: &x509.Certificate{Subject: pkix.Name{CommonName: tc.cn}, Raw: []byte{1}}}
		got := k.describe()
		if strings.ContainsAny(got, "\r\n\x00\x1b\u2028") || !strings.HasSuffix(got, "("+tc.want+")") {
			t.Errorf("CN %q: described as %q, want it to end with (%s)", tc.cn, got, tc.want)
		}
	}
}
