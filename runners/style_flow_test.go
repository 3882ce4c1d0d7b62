package runners

import (
	"bytes"
	"crypto/x509"
	"strings"
	"testing"

	"cloister/etc"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// applyStyle gives the team list the settings of a built-in style file
// (its "set SETTING VALUE" lines), as cloister list create --style does.
func applyStyle(t *testing.T, s *testSite, style string) {
	t.Helper()
	data, err := etc.Styles.ReadFile("styles/" + style)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "set" {
				if err := l.Settings.Set(f[1], f[2]); err != nil {
					return err
				}
			}
		}
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEncryptedOpenPGPStyleFlow: a list with the settings of the
// encrypted-openpgp style distributes a signed post encrypted to the list
// key only encrypted (members with a key get a copy only their gpg opens,
// the member without one a notice), and refuses a clear post and an
// encrypted but unsigned one.
func TestEncryptedOpenPGPStyleFlow(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	applyStyle(t, s, "encrypted-openpgp")
	const marker = "STYLE-MARKER-51c2"
	inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nAgenda. " + marker + "\r\n")
	bob := homes["bob@subs.test"]
	s.deliver(t, queue.SubPost, "bob@subs.test", string(bob.PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Agenda\nMessage-ID: <agenda@subs.test>\n",
		inner, true, "bob@subs.test", "team@lists.test")))
	s.drain(t)
	for _, addr := range []string{"ann@subs.test", "bob@subs.test"} {
		box := s.mailbox(t, addr)
		if len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
			t.Fatalf("%s got %d messages, or one in clear; bad: %q", addr, len(box), s.badReasons(t))
		}
		pt, status, err := homes[addr].Decrypt(armoredPart(t, box[0]))
		if err != nil || !bytes.Contains(pt, []byte(marker)) {
			t.Fatalf("%s cannot read its copy: %v\n%s", addr, err, status)
		}
	}
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
		t.Fatalf("cat (no key) got %q", box)
	}

	// A clear post, and an encrypted post without a signature, go nowhere.
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: clear\nMessage-ID: <clear@subs.test>\n\nclear text CLEAR-5d1\n")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(bob.PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: unsigned\nMessage-ID: <unsigned@subs.test>\n",
		[]byte("Content-Type: text/plain\r\n\r\nUNSIGNED-9e4\r\n"), false, "", "team@lists.test")))
	s.drain(t)
	if box := s.mailbox(t, "ann@subs.test"); len(box) != 1 {
		t.Fatalf("ann got %d messages: a refused post was distributed", len(box))
	}
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
}

// TestEncryptedSMIMEStyleFlow: the same for the encrypted-smime style: an
// openssl-signed post encrypted to the list certificate reaches each member
// with a certificate encrypted to that member alone, the member without one
// gets a notice, and a clear post is refused.
func TestEncryptedSMIMEStyleFlow(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s := newTestSite(t)
	ca := testca.New(t)
	listLeaf := ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment")
	leaves := map[string]*testca.Leaf{
		"ann@subs.test": ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment"),
		"bob@subs.test": ca.Issue("bob@subs.test", "ec", "digitalSignature,keyAgreement"),
	}
	s.Keys = caKeys(t, ca, listLeaf, leaves)
	applyStyle(t, s, "encrypted-smime")
	const marker = "SMIME-STYLE-3b7"
	s.deliver(t, queue.SubPost, "ann@subs.test", string(ca.SignEncrypt("From: ann@subs.test\nTo: team@lists.test\nSubject: Budget\n",
		[]byte("Content-Type: text/plain\n\nThe budget is "+marker+".\n"), leaves["ann@subs.test"], listLeaf.Cert)))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	for addr, leaf := range leaves {
		box := s.mailbox(t, addr)
		if len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
			t.Fatalf("%s got %d messages (or plaintext)", addr, len(box))
		}
		if _, err := testca.Decrypt(box[0], leaf); err != nil {
			t.Fatalf("%s cannot decrypt its copy: %v", addr, err)
		}
	}
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
		t.Fatalf("cat (no certificate) got %q", box)
	}
	s.deliver(t, queue.SubPost, "ann@subs.test", "From: ann@subs.test\nTo: team@lists.test\nSubject: clear\nMessage-ID: <clear@subs.test>\n\nclear\n")
	s.drain(t)
	if box := s.mailbox(t, "bob@subs.test"); len(box) != 1 {
		t.Fatalf("bob got %d messages: the clear post was distributed", len(box))
	}
}

// TestEncryptedBothStyleFlow: with the encrypted-both style, an OpenPGP
// member's post reaches an S/MIME member encrypted to her certificate and an
// S/MIME member's post reaches the OpenPGP members encrypted to their keys;
// an encrypted but unsigned post is not distributed.
func TestEncryptedBothStyleFlow(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s, homes := encryptedSite(t)
	ca := testca.New(t)
	listLeaf := ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment")
	cat := ca.Issue("cat@subs.test", "rsa", "digitalSignature,keyEncipherment")
	keys := s.mem
	keys.cert, keys.key = parseCert(t, listLeaf.CertPEM), parseKey(t, listLeaf.KeyPEM)
	keys.roots = x509.NewCertPool()
	keys.roots.AddCert(parseCert(t, mustRead(t, ca.Cert)))
	keys.certs = map[string]*x509.Certificate{"cat@subs.test": parseCert(t, cat.CertPEM)}
	applyStyle(t, s, "encrypted-both")

	const pgpMarker, smimeMarker = "BOTH-PGP-8a1", "BOTH-SMIME-2f9"
	s.deliver(t, queue.SubPost, "bob@subs.test", string(homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: one\nMessage-ID: <one@subs.test>\n",
		[]byte("Content-Type: text/plain; charset=utf-8\r\n\r\n"+pgpMarker+"\r\n"), true, "bob@subs.test", "team@lists.test")))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	box := s.mailbox(t, "cat@subs.test")
	if len(box) != 1 || bytes.Contains(box[0], []byte(pgpMarker)) {
		t.Fatalf("cat got %d messages (or plaintext)", len(box))
	}
	if opened, err := testca.Decrypt(box[0], cat); err != nil || !bytes.Contains(opened, []byte(pgpMarker)) {
		t.Fatalf("cat cannot read bob's post with her certificate: %v", err)
	}

	s.deliver(t, queue.SubPost, "cat@subs.test", string(ca.SignEncrypt("From: cat@subs.test\nTo: team@lists.test\nSubject: two\nMessage-ID: <two@subs.test>\n",
		[]byte("Content-Type: text/plain\n\n"+smimeMarker+"\n"), cat, listLeaf.Cert)))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	box = s.mailbox(t, "ann@subs.test")
	if len(box) != 2 || bytes.Contains(box[1], []byte(smimeMarker)) {
		t.Fatalf("ann got %d messages (or plaintext)", len(box))
	}
	if pt, status, err := homes["ann@subs.test"].Decrypt(armoredPart(t, box[1])); err != nil || !bytes.Contains(pt, []byte(smimeMarker)) {
		t.Fatalf("ann cannot read cat's post: %v\n%s", err, status)
	}

	s.deliver(t, queue.SubPost, "bob@subs.test", string(homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: three\nMessage-ID: <three@subs.test>\n",
		[]byte("Content-Type: text/plain\r\n\r\nUNSIGNED\r\n"), false, "", "team@lists.test")))
	s.drain(t)
	if n := len(s.mailbox(t, "ann@subs.test")); n != 2 {
		t.Fatalf("ann got %d messages: the unsigned post was distributed", n)
	}
}
