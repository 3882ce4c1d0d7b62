package runners

import (
	"crypto/x509"
	"strings"
	"testing"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// TestCommandSMIMESignedRemove: an owner's openssl-signed and encrypted
// S/MIME command mail removes a member; the reply is encrypted to the
// owner's certificate (openssl opens it) and signed by the list's; the same
// mail again is refused as a replay.
func TestCommandSMIMESignedRemove(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s := newTestSite(t)
	ca := testca.New(t)
	listLeaf := ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment")
	ann := ca.Issue("ann@subs.test", "ec", "digitalSignature,keyAgreement")
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, mustRead(t, ca.Cert)))
	s.Keys = &memKeys{cert: parseCert(t, listLeaf.CertPEM), key: parseKey(t, listLeaf.KeyPEM), roots: roots,
		certs: map[string]*x509.Certificate{"ann@subs.test": parseCert(t, ann.CertPEM)}}
	s.setList(t, map[string]string{"smime_post_encrypt": "yes"})

	mail := string(ca.SignEncrypt("From: ann@subs.test\nTo: team-request@lists.test\nSubject: roster\n",
		[]byte("Content-Type: text/plain\n\nx-list-name team@lists.test\nremove bob@subs.test\n"), ann, listLeaf.Cert))
	s.deliver(t, queue.SubRequest, "ann@subs.test", mail)
	s.drain(t)
	if s.member(t, "bob@subs.test") != nil {
		t.Fatalf("bob not removed; bad: %q", s.badReasons(t))
	}
	reply := oneReply(t, s, "ann@subs.test")
	if strings.Contains(reply, "bob@subs.test") || !strings.Contains(reply, "application/pkcs7-mime") {
		t.Fatalf("reply not encrypted:\n%s", reply)
	}
	signed, err := testca.Decrypt([]byte(reply), ann)
	if err != nil {
		t.Fatal(err)
	}
	text, err := ca.Verify(signed)
	if err != nil {
		t.Fatalf("the list's signature on the reply does not verify: %v", err)
	}
	if !strings.Contains(string(text), "done: bob@subs.test is unsubscribed") {
		t.Fatalf("reply:\n%q", text)
	}

	s.Lists.Update(func(tx *lists.Tx) error {
		return tx.AddMember("team@lists.test", &lists.Member{Address: "bob@subs.test"})
	})
	s.deliver(t, queue.SubRequest, "ann@subs.test", mail)
	s.drain(t)
	if s.member(t, "bob@subs.test") == nil {
		t.Fatal("replayed S/MIME remove carried out")
	}
	box := s.mailbox(t, "ann@subs.test")
	signed, err = testca.Decrypt(box[len(box)-1], ann)
	if err != nil {
		t.Fatal(err)
	}
	if text, _ := ca.Verify(signed); !strings.Contains(string(text), "refused: this signed message was received before") {
		t.Fatalf("replay reply:\n%s", text)
	}
}
