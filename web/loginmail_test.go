package web

import (
	"bytes"
	"crypto/tls"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/keyring"
)

// TestLoginMailEncrypted: a member whose OpenPGP key is bound gets the login
// code encrypted to it; the mail carries no code in clear, gpg decrypts it,
// and the code logs in.
func TestLoginMailEncrypted(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	bob := gnupg.New(t)
	fpr := bob.GenKey("Bob <bob@subs.test>", "cv25519")
	if _, err := ws.keys.AddOpenPGP("bob@subs.test", bob.ExportPublic(fpr), true); err != nil {
		t.Fatal(err)
	}
	b := ws.browser(t)
	b.askLogin("bob@subs.test")
	ws.drain(t)
	box := ws.mailbox(t, "bob@subs.test")
	if len(box) != 1 {
		t.Fatalf("%d mails", len(box))
	}
	mail := box[0]
	if !bytes.Contains(mail, []byte("multipart/encrypted")) || codeLine.Match(mail) || bytes.Contains(mail, []byte("/login/token?code=")) {
		t.Fatalf("the login mail is not encrypted:\n%s", mail)
	}
	i := bytes.Index(mail, []byte("-----BEGIN PGP MESSAGE-----"))
	j := bytes.Index(mail, []byte("-----END PGP MESSAGE-----"))
	plain, status, err := bob.Decrypt(mail[i : j+len("-----END PGP MESSAGE-----")])
	if err != nil {
		t.Fatalf("gpg cannot decrypt the login mail: %v\n%s", err, status)
	}
	m := codeLine.FindSubmatch(bytes.ReplaceAll(plain, []byte("\r\n"), []byte("\n")))
	if m == nil {
		t.Fatalf("no code in the decrypted mail:\n%s", plain)
	}
	b.get("/login/token")
	if st, loc, _ := b.post("/login/token", url.Values{"csrf": {b.csrf()}, "code": {string(m[1])}}); st != http.StatusSeeOther || loc != "/me" {
		t.Fatalf("the decrypted code did not log in: %d %s", st, loc)
	}
}

// TestLoginByCertificate: a client certificate from the accepted CA logs
// in as smime only for an address whose bound S/MIME signing certificate it
// is; another certificate of the same CA naming the address, or naming
// another address, is refused.
func TestLoginByCertificate(t *testing.T) {
	ca := testca.Shared(t)
	cat := ca.Issue("cat@subs.test", "rsa", "digitalSignature,keyEncipherment")
	catOther := ca.Issue("cat@subs.test", "ec", "digitalSignature")
	bobLeaf := ca.Issue("bob@subs.test", "rsa", "digitalSignature,keyEncipherment")
	ws := newWebSite(t, TLSFiles{ClientCA: ca.Cert})
	if _, err := ws.keys.AddCert("cat@subs.test", cat.CertPEM, keyring.UseBoth); err != nil {
		t.Fatal(err)
	}
	pair := func(l *testca.Leaf) tls.Certificate {
		c, err := tls.X509KeyPair(l.CertPEM, l.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	for _, tc := range []struct {
		name string
		leaf *testca.Leaf
		addr string
		ok   bool
	}{
		{"bound certificate", cat, "cat@subs.test", true},
		{"unbound certificate naming the address", catOther, "cat@subs.test", false},
		{"certificate of another address", bobLeaf, "cat@subs.test", false},
		{"bound certificate, other address asked", cat, "bob@subs.test", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := ws.browser(t, pair(tc.leaf))
			_, page := b.get("/login")
			if !strings.Contains(page, "Log in with my certificate") {
				t.Fatalf("no certificate login offered:\n%s", page)
			}
			st, loc, _ := b.post("/login/cert", url.Values{"csrf": {b.csrf()}, "address": {tc.addr}})
			_, me := b.get("/me")
			in := regexp.MustCompile(regexp.QuoteMeta(tc.addr + " (smime)")).MatchString(me)
			if tc.ok != (st == http.StatusSeeOther && loc == "/me" && in) {
				t.Fatalf("login: %d %s, logged in %v, want ok=%v", st, loc, in, tc.ok)
			}
		})
	}
	// Without a client certificate the form says so and the POST is refused.
	b := ws.browser(t)
	b.get("/login")
	if st, _, _ := b.post("/login/cert", url.Values{"csrf": {b.csrf()}, "address": {"cat@subs.test"}}); st != http.StatusForbidden {
		t.Fatalf("certificate login without a certificate: %d", st)
	}
}

// TestLoginMailEncryptedSMIME: a member whose S/MIME certificate is bound
// (and no OpenPGP key) gets the login code encrypted to the certificate;
// openssl with her key reads it, and the code logs in.
func TestLoginMailEncryptedSMIME(t *testing.T) {
	testdirs.Slow(t, "runs openssl to read the encrypted login mail")
	cs := newCertSite(t)
	b := cs.browser(t)
	b.askLogin("ann@subs.test")
	cs.drain(t)
	box := cs.mailbox(t, "ann@subs.test")
	if len(box) != 1 {
		t.Fatalf("%d mails", len(box))
	}
	if !bytes.Contains(box[0], []byte("application/pkcs7-mime")) || codeLine.Match(box[0]) || bytes.Contains(box[0], []byte("/login/token?code=")) {
		t.Fatalf("the login mail is not S/MIME encrypted:\n%s", box[0])
	}
	plain, err := testca.Decrypt(box[0], cs.ann)
	if err != nil {
		t.Fatalf("openssl cannot decrypt the login mail: %v", err)
	}
	m := codeLine.FindSubmatch(bytes.ReplaceAll(plain, []byte("\r\n"), []byte("\n")))
	if m == nil {
		t.Fatalf("no code in the decrypted mail:\n%s", plain)
	}
	b.get("/login/token")
	if st, loc, _ := b.post("/login/token", url.Values{"csrf": {b.csrf()}, "code": {string(m[1])}}); st != http.StatusSeeOther || loc != "/me" {
		t.Fatalf("the decrypted code did not log in: %d %s", st, loc)
	}
}
