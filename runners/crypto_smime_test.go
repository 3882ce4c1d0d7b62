package runners

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"os"
	"testing"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/queue"
)

func parseCert(t *testing.T, p []byte) *x509.Certificate {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM certificate")
	}
	c, err := x509.ParseCertificate(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func parseKey(t *testing.T, p []byte) crypto.Signer {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k.(crypto.Signer)
}

// TestSMIMEPostThroughTheRunners: an openssl-made CA, a list certificate and
// members with RSA and ECDSA P-256 certificates. Ann's openssl signs and
// encrypts a post to the list's certificate; every member's copy is opened by
// openssl with that member's key alone, and the list's signature verifies
// against the CA. Ann's certificate is offered for capture.
func TestSMIMEPostThroughTheRunners(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s := newTestSite(t)
	ca := testca.New(t)
	listLeaf := ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment")
	leaves := map[string]*testca.Leaf{
		"ann@subs.test": ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment"),
		"bob@subs.test": ca.Issue("bob@subs.test", "ec", "digitalSignature,keyAgreement"),
	}
	keys := caKeys(t, ca, listLeaf, leaves)
	s.Keys = keys
	s.setList(t, map[string]string{"smime_post_encrypt": "yes", "smime_distrib_encrypt": "yes", "smime_distrib_sign": "yes"})
	const marker = "SMIME-MARKER-91c2"
	post := ca.SignEncrypt("From: ann@subs.test\nTo: team@lists.test\nSubject: Budget\n",
		[]byte("Content-Type: text/plain\n\nThe budget is "+marker+".\n"), leaves["ann@subs.test"], listLeaf.Cert)
	s.deliver(t, queue.SubPost, "ann@subs.test", string(post))
	s.drain(t)
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext on disk: %v", hits)
	}
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	for addr, leaf := range leaves {
		box := s.mailbox(t, addr)
		if len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
			t.Fatalf("%s got %d messages (or plaintext): %q", addr, len(box), box)
		}
		signed, err := testca.Decrypt(box[0], leaf)
		if err != nil {
			t.Fatalf("%s cannot decrypt its copy: %v", addr, err)
		}
		content, err := ca.Verify(signed)
		if err != nil {
			t.Fatalf("%s: the list signature does not verify: %v", addr, err)
		}
		if !bytes.Contains(content, []byte(marker)) {
			t.Fatalf("%s decrypted:\n%s", addr, content)
		}
	}
	other := leaves["bob@subs.test"]
	if _, err := testca.Decrypt(s.mailbox(t, "ann@subs.test")[0], other); err == nil {
		t.Fatal("bob opened ann's copy")
	}
	if keys.captured["ann@subs.test"] == nil {
		t.Fatal("ann's certificate was not offered for capture")
	}
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
		t.Fatalf("cat (no certificate) got %q", box)
	}
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// caKeys is an in-memory keyring for S/MIME tests: the list's certificate
// and key from listLeaf, ca's certificate as the trust anchor, and each
// member's certificate from leaves.
func caKeys(t *testing.T, ca *testca.CA, listLeaf *testca.Leaf, leaves map[string]*testca.Leaf) *memKeys {
	t.Helper()
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, mustRead(t, ca.Cert)))
	keys := &memKeys{cert: parseCert(t, listLeaf.CertPEM), key: parseKey(t, listLeaf.KeyPEM), roots: roots, certs: map[string]*x509.Certificate{}}
	for addr, l := range leaves {
		keys.certs[addr] = parseCert(t, l.CertPEM)
	}
	return keys
}
