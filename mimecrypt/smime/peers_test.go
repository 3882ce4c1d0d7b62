package smime

import (
	"bytes"
	"crypto/rand"
	"crypto/x509"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"cloister/internal/testdirs"
	"cloister/mimecrypt"
)

const postEntity = "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nHello list, this is a signed post.\r\nSecond line.\r\n"

// withHeader puts message header fields above an entity written by openssl.
func withHeader(from string, entity []byte) []byte {
	h := "From: " + from + "\r\nTo: team@lists.example.test\r\nSubject: peer post\r\nDate: " +
		time.Now().UTC().Format(time.RFC1123Z) + "\r\n"
	return append([]byte(h), entity...)
}

// opensslSign signs postEntity with openssl as the member and returns the
// S/MIME entity openssl writes.
func opensslSign(t *testing.T, m *member, cmd string, extra ...string) []byte {
	t.Helper()
	args := append([]string{cmd, "-sign", "-signer", m.certFile, "-inkey", m.keyFile}, extra...)
	return mustOpenSSL(t, []byte(postEntity), args...)
}

func listOptions(p *testPKI) OpenOptions {
	return OpenOptions{Cert: p.m["list"].cert, Key: p.m["list"].key, Roots: pool(p.ca.cert)}
}

// TestOpenPeers opens posts signed and encrypted by openssl cms and openssl smime.
func TestOpenPeers(t *testing.T) {
	testdirs.Slow(t, "runs openssl and node for every message")
	p := thePKI(t)
	list := p.m["list"]
	encryptTo := func(entity []byte, cert string, extra ...string) []byte {
		args := append([]string{"cms", "-encrypt"}, extra...)
		return mustOpenSSL(t, entity, append(args, cert)...)
	}
	altered := opensslSign(t, p.m["alice"], "cms", "-md", "sha256")
	altered = bytes.Replace(altered, []byte("Second line."), []byte("Second line!"), 1)
	for _, tc := range []struct {
		name    string
		msg     func() []byte
		opts    func(o *OpenOptions)
		verdict mimecrypt.Verdict
		enc     mimecrypt.Encryption
		err     error
	}{
		{name: "cms multipart/signed RSA", verdict: mimecrypt.VerdictGood,
			msg: func() []byte {
				return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms", "-md", "sha256"))
			}},
		{name: "multipart/signed with LF line endings", verdict: mimecrypt.VerdictGood,
			msg: func() []byte {
				return bytes.ReplaceAll(withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms")), []byte("\r\n"), []byte("\n"))
			}},
		{name: "unparsable From", verdict: mimecrypt.VerdictSignerMismatch,
			msg: func() []byte { return withHeader("alice@example.test <<", opensslSign(t, p.m["alice"], "cms")) }},
		{name: "smime multipart/signed RSA", verdict: mimecrypt.VerdictGood,
			msg: func() []byte {
				return withHeader("Alice <Alice@Example.test>", opensslSign(t, p.m["alice"], "smime", "-md", "sha256"))
			}},
		{name: "cms opaque RSA", verdict: mimecrypt.VerdictGood,
			msg: func() []byte {
				return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms", "-md", "sha256", "-nodetach"))
			}},
		{name: "smime opaque ECDSA", verdict: mimecrypt.VerdictGood,
			msg: func() []byte {
				return withHeader("erin@example.test", opensslSign(t, p.m["erin"], "smime", "-nodetach"))
			}},
		{name: "cms multipart/signed ECDSA", verdict: mimecrypt.VerdictGood,
			msg: func() []byte { return withHeader("erin@example.test", opensslSign(t, p.m["erin"], "cms")) }},
		{name: "cms multipart/signed RSASSA-PSS", verdict: mimecrypt.VerdictGood,
			msg: func() []byte {
				return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms", "-md", "sha256", "-keyopt", "rsa_padding_mode:pss"))
			}},
		{name: "cms opaque RSASSA-PSS sha512 salt 0", verdict: mimecrypt.VerdictGood,
			msg: func() []byte {
				return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms", "-nodetach", "-md", "sha512",
					"-keyopt", "rsa_padding_mode:pss", "-keyopt", "rsa_pss_saltlen:0"))
			}},
		{name: "RSASSA-PSS altered", verdict: mimecrypt.VerdictBad,
			msg: func() []byte {
				return withHeader("alice@example.test", bytes.Replace(opensslSign(t, p.m["alice"], "cms", "-keyopt", "rsa_padding_mode:pss"),
					[]byte("Second line."), []byte("Second line!"), 1))
			}},
		{name: "RSASSA-PSS with SHA-1", verdict: mimecrypt.VerdictBad,
			msg: func() []byte {
				return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms", "-md", "sha1", "-keyopt", "rsa_padding_mode:pss"))
			}},
		{name: "signed then encrypted aes256", verdict: mimecrypt.VerdictGood, enc: mimecrypt.EncSMIME,
			msg: func() []byte {
				return withHeader("alice@example.test", encryptTo(opensslSign(t, p.m["alice"], "cms"), list.certFile, "-aes256"))
			}},
		{name: "signed then encrypted gcm", verdict: mimecrypt.VerdictGood, enc: mimecrypt.EncSMIME,
			msg: func() []byte {
				return withHeader("erin@example.test", encryptTo(opensslSign(t, p.m["erin"], "cms", "-nodetach"), list.certFile, "-aes-128-gcm"))
			}},
		{name: "encrypted oaep", verdict: mimecrypt.VerdictNone, enc: mimecrypt.EncSMIME,
			msg: func() []byte {
				return withHeader("alice@example.test", mustOpenSSL(t, []byte(postEntity), "cms", "-encrypt", "-aes256", "-recip", list.certFile,
					"-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256"))
			}},
		{name: "smime encrypt default 3des", verdict: mimecrypt.VerdictNone, enc: mimecrypt.EncSMIME,
			msg: func() []byte {
				return withHeader("alice@example.test", mustOpenSSL(t, []byte(postEntity), "smime", "-encrypt", list.certFile))
			}},
		{name: "envelope for another recipient", verdict: mimecrypt.VerdictNone, enc: mimecrypt.EncSMIME, err: mimecrypt.ErrNoKey,
			msg: func() []byte {
				return withHeader("alice@example.test", encryptTo([]byte(postEntity), p.m["alice"].certFile, "-aes256"))
			}},
		{name: "From mismatch", verdict: mimecrypt.VerdictSignerMismatch,
			msg: func() []byte { return withHeader("bob@example.test", opensslSign(t, p.m["alice"], "cms")) }},
		{name: "two From addresses", verdict: mimecrypt.VerdictSignerMismatch,
			msg: func() []byte {
				return withHeader("alice@example.test, eve@example.test", opensslSign(t, p.m["alice"], "cms"))
			}},
		{name: "cert without email", verdict: mimecrypt.VerdictSignerMismatch,
			msg: func() []byte { return withHeader("alice@example.test", opensslSign(t, p.m["noemail"], "cms")) }},
		{name: "chain to unknown CA", verdict: mimecrypt.VerdictUnknownKey,
			msg: func() []byte { return withHeader("mallory@example.test", opensslSign(t, p.m["mallory"], "cms")) }},
		{name: "no trust anchors", verdict: mimecrypt.VerdictUnknownKey, opts: func(o *OpenOptions) { o.Roots = nil },
			msg: func() []byte { return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms")) }},
		{name: "expired certificate", verdict: mimecrypt.VerdictExpired,
			opts: func(o *OpenOptions) { o.Now = p.m["alice"].cert.NotAfter.Add(48 * time.Hour) },
			msg:  func() []byte { return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms")) }},
		{name: "revoked certificate", verdict: mimecrypt.VerdictRevoked,
			opts: func(o *OpenOptions) { o.CRLs = []*x509.RevocationList{revoke(t, p, p.m["alice"].cert)} },
			msg:  func() []byte { return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms")) }},
		{name: "CRL listing another certificate", verdict: mimecrypt.VerdictGood,
			opts: func(o *OpenOptions) { o.CRLs = []*x509.RevocationList{revoke(t, p, p.m["erin"].cert)} },
			msg:  func() []byte { return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms")) }},
		{name: "not for email protection", verdict: mimecrypt.VerdictBad,
			msg: func() []byte { return withHeader("srv@example.test", opensslSign(t, p.m["server"], "cms")) }},
		{name: "SHA-1 digest", verdict: mimecrypt.VerdictBad,
			msg: func() []byte {
				return withHeader("alice@example.test", opensslSign(t, p.m["alice"], "cms", "-md", "sha1"))
			}},
		{name: "signed part altered by one byte", verdict: mimecrypt.VerdictBad,
			msg: func() []byte { return withHeader("alice@example.test", altered) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts := listOptions(p)
			if tc.opts != nil {
				tc.opts(&opts)
			}
			if tc.enc == "" {
				tc.enc = mimecrypt.EncNone
			}
			res, err := Open(tc.msg(), opts)
			if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
				t.Fatalf("error %v, want %v", err, tc.err)
			}
			if res.Verdict != tc.verdict || res.Encryption != tc.enc {
				t.Fatalf("got %s/%s (%q), want %s/%s", res.Verdict, res.Encryption, res.Reason, tc.verdict, tc.enc)
			}
			if tc.err == nil && tc.verdict != mimecrypt.VerdictBad && tc.verdict != mimecrypt.VerdictNone &&
				(len(res.SignerCert) == 0 || !strings.Contains(string(shown(res.Message)), "Hello list")) {
				t.Fatalf("missing signer certificate or content: %+v", res)
			}
			t.Logf("%s %s %q", res.Verdict, res.Encryption, res.Reason)
		})
	}
}

// revoke returns a CRL of the test CA listing cert.
func revoke(t *testing.T, p *testPKI, cert *x509.Certificate) *x509.RevocationList {
	t.Helper()
	tmpl := &x509.RevocationList{
		Number: big.NewInt(1), ThisUpdate: time.Now().Add(-time.Hour), NextUpdate: time.Now().Add(24 * time.Hour),
		RevokedCertificateEntries: []x509.RevocationListEntry{{SerialNumber: cert.SerialNumber, RevocationTime: time.Now()}},
	}
	der, err := x509.CreateRevocationList(rand.Reader, tmpl, p.ca.cert, p.ca.key)
	if err != nil {
		t.Fatal(err)
	}
	crl, err := x509.ParseRevocationList(der)
	if err != nil {
		t.Fatal(err)
	}
	return crl
}
