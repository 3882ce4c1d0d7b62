package runners

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
	"cloister/mimecrypt/smime"
	"cloister/queue"
	"cloister/resend"
)

// opaqueSMIMESite makes a site whose list encrypts and signs S/MIME copies
// for the given subscribers' certificates.
func opaqueSMIMESite(t *testing.T, ca *testca.CA, leaves map[string]*testca.Leaf, members ...string) (*testSite, *memKeys, *testca.Leaf) {
	t.Helper()
	s := newTestSite(t)
	for _, m := range members {
		addMember(t, s, m)
	}
	listLeaf := ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment")
	keys := caKeys(t, ca, listLeaf, leaves)
	s.Keys = keys
	s.setList(t, map[string]string{"smime_post_encrypt": "yes", "smime_distrib_encrypt": "yes", "smime_distrib_sign": "yes"})
	return s, keys, listLeaf
}

// innerEntity returns the entity the list signed in a decrypted copy.
func innerEntity(t *testing.T, ca *testca.CA, addr string, decrypted []byte) []byte {
	t.Helper()
	content, err := ca.Verify(decrypted)
	if err != nil {
		t.Fatalf("%s: the list signature does not verify: %v", addr, err)
	}
	return content
}

// TestSMIMEOpaqueSignatureKept: Ann's openssl signs a post opaquely
// (application/pkcs7-mime signed-data, Outlook's default) with RSASSA-PSS
// and encrypts it to the list. The list finds the signature good (it
// offers Ann's certificate for capture) and every copy keeps Ann's opaque
// signature inside the list's: openssl decrypts the copy, verifies the
// list's signature, then Ann's. Xena's copy is for an X25519 certificate
// (RFC 8410), which openssl 3.0 cannot read: the S/MIME reader opens it
// with her key here (Bouncy Castle reads such copies in
// TestBouncyCastleSMIMEPeer).
func TestSMIMEOpaqueSignatureKept(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real openssl")
	ca := testca.New(t)
	leaves := map[string]*testca.Leaf{
		"ann@subs.test":  ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment"),
		"bob@subs.test":  ca.Issue("bob@subs.test", "ec", "digitalSignature,keyAgreement"),
		"xena@subs.test": ca.Issue("xena@subs.test", "x25519", "keyAgreement"),
	}
	s, keys, listLeaf := opaqueSMIMESite(t, ca, leaves, "xena@subs.test")
	const marker = "OPAQUE-MARKER-5d1e"
	ann := leaves["ann@subs.test"]
	signed := ca.Run([]byte("Content-Type: text/plain\r\n\r\nThe plan is "+marker+".\r\n"),
		"cms", "-sign", "-nodetach", "-signer", ann.Cert, "-inkey", ann.Key, "-md", "sha256", "-keyopt", "rsa_padding_mode:pss")
	enc := ca.Run(signed, "cms", "-encrypt", "-aes256", listLeaf.Cert)
	s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann@subs.test\nTo: team@lists.test\nSubject: Plan\n"+string(enc))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	if keys.captured["ann@subs.test"] == nil {
		t.Fatal("the list did not find Ann's PSS signature good (no certificate offered for capture)")
	}
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext on disk: %v", hits)
	}
	for _, addr := range []string{"ann@subs.test", "bob@subs.test"} {
		box := s.mailbox(t, addr)
		if len(box) != 1 {
			t.Fatalf("%s got %d messages", addr, len(box))
		}
		decrypted, err := testca.Decrypt(box[0], leaves[addr])
		if err != nil {
			t.Fatalf("%s cannot decrypt its copy: %v", addr, err)
		}
		inner := innerEntity(t, ca, addr, decrypted)
		if !bytes.Contains(inner, []byte("smime-type=signed-data")) || bytes.Contains(inner, []byte(marker)) {
			t.Fatalf("%s: the author's opaque signature was not kept:\n%s", addr, inner)
		}
		f := filepath.Join(t.TempDir(), "author.eml")
		os.WriteFile(f, inner, 0o600)
		signer := filepath.Join(t.TempDir(), "signer.pem")
		content, err := testca.Exec(nil, "cms", "-verify", "-in", f, "-CAfile", ca.Cert, "-signer", signer)
		if err != nil || !bytes.Contains(content, []byte(marker)) {
			t.Fatalf("%s: openssl does not verify Ann's signature in the copy: %v\n%s", addr, err, content)
		}
		if got := parseCert(t, mustRead(t, signer)); !bytes.Equal(got.Raw, parseCert(t, ann.CertPEM).Raw) {
			t.Fatalf("%s: the inner signer is %s, not Ann", addr, got.Subject)
		}
	}
	xena := leaves["xena@subs.test"]
	box := s.mailbox(t, "xena@subs.test")
	if len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
		t.Fatalf("xena got %d messages (or plaintext)", len(box))
	}
	res, err := smime.Open(box[0], smime.OpenOptions{Cert: parseCert(t, xena.CertPEM), Key: parseAnyKey(t, xena.KeyPEM), Roots: keys.roots})
	// The list's signature holds (it is the list's, not the From address's).
	if err != nil || res.Encryption != mimecrypt.EncSMIME || res.Verdict != mimecrypt.VerdictSignerMismatch ||
		!bytes.Equal(res.SignerCert, parseCert(t, listLeaf.CertPEM).Raw) {
		t.Fatalf("xena's copy: %v %s %s %q", err, res.Encryption, res.Verdict, res.Reason)
	}
	// Inside the list's multipart/signed: Ann's opaque signature.
	var content []byte
	ok := false
	if top, err := rawmime.Parse(res.Message); err == nil {
		if _, params, err := top.MediaType(); err == nil {
			if parts, err := rawmime.SplitMultipart(top.Body, params["boundary"], 10); err == nil && len(parts) == 2 {
				content, ok = smime.OpaqueContent(parts[0])
			}
		}
	}
	if !ok || !bytes.Contains(content, []byte(marker)) {
		t.Fatalf("xena's copy lacks Ann's opaque signature:\n%s", res.Message)
	}
}

// TestSMIMEEd25519Post: Dora's GnuTLS certtool signs a post with Ed25519
// (RFC 8419; OpenSSL 3.0's CMS cannot), opaquely, and openssl encrypts it
// to the list. The list finds the signature good and certtool verifies
// Dora's signature in the copy openssl decrypts.
func TestSMIMEEd25519Post(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	certtool, err := exec.LookPath("certtool")
	if err != nil {
		t.Fatalf("certtool is needed (apt-get install -y gnutls-bin): %v", err)
	}
	ca := testca.New(t)
	// Dora's Ed25519 certificate can sign only: she gets no encrypted copy.
	leaves := map[string]*testca.Leaf{"bob@subs.test": ca.Issue("bob@subs.test", "ec", "digitalSignature,keyAgreement")}
	dora := ca.Issue("dora@subs.test", "ed25519", "digitalSignature")
	s, keys, listLeaf := opaqueSMIMESite(t, ca, leaves, "dora@subs.test")
	const marker = "ED25519-MARKER-77a0"
	dir := t.TempDir()
	in, sig := filepath.Join(dir, "post"), filepath.Join(dir, "sig.der")
	os.WriteFile(in, []byte("Content-Type: text/plain\r\n\r\nSigned with "+marker+".\r\n"), 0o600)
	if out, err := exec.Command(certtool, "--p7-sign", "--p7-time", "--outder", "--load-privkey", dora.Key,
		"--load-certificate", dora.Cert, "--infile", in, "--outfile", sig).CombinedOutput(); err != nil {
		t.Fatalf("certtool: %v: %s", err, out)
	}
	entity := "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
		base64.StdEncoding.EncodeToString(mustRead(t, sig)) + "\r\n"
	enc := ca.Run([]byte(entity), "cms", "-encrypt", "-aes256", listLeaf.Cert)
	s.deliver(t, queue.SubPost, "dora@subs.test", "From: dora@subs.test\nTo: team@lists.test\nSubject: Ed\n"+string(enc))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	if keys.captured["dora@subs.test"] == nil {
		t.Fatal("the list did not find Dora's Ed25519 signature good")
	}
	box := s.mailbox(t, "bob@subs.test")
	if len(box) != 1 {
		t.Fatalf("bob got %d messages", len(box))
	}
	decrypted, err := testca.Decrypt(box[0], leaves["bob@subs.test"])
	if err != nil {
		t.Fatalf("bob cannot decrypt: %v", err)
	}
	e, err := rawmime.Parse(innerEntity(t, ca, "bob", decrypted))
	if err != nil {
		t.Fatal(err)
	}
	der, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(e.Body), nil)))
	if err != nil {
		t.Fatalf("the author's signature was not kept:\n%s", e.Raw)
	}
	got := filepath.Join(dir, "got.der")
	os.WriteFile(got, der, 0o600)
	out, err := exec.Command(certtool, "--p7-verify", "--inder", "--load-ca-certificate", ca.Cert, "--infile", got).CombinedOutput()
	if err != nil || !bytes.Contains(der, []byte(marker)) {
		t.Fatalf("certtool does not verify Dora's signature in bob's copy: %v\n%s", err, out)
	}
}

// parseAnyKey reads a PEM PKCS #8 private key of any kind (X25519 keys are
// no crypto.Signer).
func parseAnyKey(t *testing.T, p []byte) any {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM key")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestSMIMEOpaqueStripped: with strip_original_signature the list removes
// an opaque S/MIME signature as it does a detached one: openssl decrypts the
// copy, verifies the list's signature, and finds the text without Ann's.
func TestSMIMEOpaqueStripped(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	ca := testca.New(t)
	leaves := map[string]*testca.Leaf{
		"ann@subs.test": ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment"),
		"bob@subs.test": ca.Issue("bob@subs.test", "ec", "digitalSignature,keyAgreement"),
	}
	s, _, listLeaf := opaqueSMIMESite(t, ca, leaves)
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		l.Settings.StripOriginalSignature = true
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
	const marker = "STRIP-OPAQUE-0c4b"
	ann := leaves["ann@subs.test"]
	signed := ca.Run([]byte("Content-Type: text/plain\r\n\r\n"+marker+"\r\n"),
		"cms", "-sign", "-nodetach", "-signer", ann.Cert, "-inkey", ann.Key, "-md", "sha256")
	enc := ca.Run(signed, "cms", "-encrypt", "-aes256", listLeaf.Cert)
	s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann@subs.test\nTo: team@lists.test\nSubject: Strip\n"+string(enc))
	s.drain(t)
	box := s.mailbox(t, "bob@subs.test")
	if len(box) != 1 {
		t.Fatalf("bob got %d messages", len(box))
	}
	decrypted, err := testca.Decrypt(box[0], leaves["bob@subs.test"])
	if err != nil {
		t.Fatalf("bob cannot decrypt: %v", err)
	}
	inner := innerEntity(t, ca, "bob", decrypted)
	if !bytes.Contains(inner, []byte(marker)) || bytes.Contains(bytes.ToLower(inner), []byte("pkcs7")) {
		t.Fatalf("the sender's opaque signature was not stripped:\n%s", inner)
	}
}

// TestResendFromOpaqueSigned: resend lines are taken from the text inside
// an opaque S/MIME signature (now kept by the reader), which is then
// dropped, as from a multipart/signed post.
func TestResendFromOpaqueSigned(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	ca := testca.New(t)
	ann := ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment")
	signed := ca.Run([]byte("Content-Type: text/plain\r\n\r\nresend reporter@example.net\r\nThanks for the report.\r\n"),
		"cms", "-sign", "-nodetach", "-signer", ann.Cert, "-inkey", ann.Key, "-md", "sha256")
	msg, err := mailmsg.Parse(append([]byte("From: ann@subs.test\r\nTo: team@lists.test\r\nSubject: Report\r\n"), signed...))
	if err != nil {
		t.Fatal(err)
	}
	orders, bad, ok := resend.Take(msg)
	if !ok || len(bad) != 0 || len(orders) != 1 || len(orders[0].Addrs) != 1 || orders[0].Addrs[0] != "reporter@example.net" {
		t.Fatalf("orders %+v, bad %q, ok %v", orders, bad, ok)
	}
	out := msg.Bytes()
	if bytes.Contains(bytes.ToLower(out), []byte("pkcs7")) || bytes.Contains(out, []byte("resend ")) ||
		!bytes.Contains(out, []byte("Thanks for the report.")) {
		t.Fatalf("after taking the orders:\n%s", out)
	}
}

// TestCommandOpaqueSigned: an owner's command mail signed opaquely (as
// Outlook signs by default) and encrypted to the list is carried out: the
// reader keeps the good opaque signature, and the commands are read from
// the text it signs.
func TestCommandOpaqueSigned(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	ca := testca.New(t)
	ann := ca.Issue("ann@subs.test", "ec", "digitalSignature,keyAgreement")
	s, _, listLeaf := opaqueSMIMESite(t, ca, map[string]*testca.Leaf{"ann@subs.test": ann})
	signed := ca.Run([]byte("Content-Type: text/plain\r\n\r\nx-list-name team@lists.test\r\nremove bob@subs.test\r\n"),
		"cms", "-sign", "-nodetach", "-signer", ann.Cert, "-inkey", ann.Key, "-md", "sha256")
	enc := ca.Run(signed, "cms", "-encrypt", "-aes256", listLeaf.Cert)
	s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\nTo: team-request@lists.test\nSubject: roster\n"+string(enc))
	s.drain(t)
	if s.member(t, "bob@subs.test") != nil {
		t.Fatalf("bob not removed; bad: %q", s.badReasons(t))
	}
}
