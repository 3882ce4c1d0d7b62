package runners

// S/MIME replays, end to end with openssl: an owner's signed command mail
// acts once; re-encodings of its CMS signature that need no key (an unsigned
// attribute added, another certificate set, BER instead of DER, the whole
// signed mail encrypted to the list by the attacker) are still the same
// signature and are refused.
//
//   openssl cms -sign --> deliver --> in --> incoming (CMS identity) --> command (replay store)

import (
	"bytes"
	"crypto/x509"
	"testing"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestSMIMECommandReencodedReplay: an owner's openssl-signed remove acts
// once; the same signature re-encoded in ways that need no key is refused as
// a replay every time.
func TestSMIMECommandReencodedReplay(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s := newTestSite(t)
	ca := testca.New(t)
	listLeaf := ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment")
	ann := ca.Issue("ann@subs.test", "ec", "digitalSignature,keyAgreement")
	caCert := parseCert(t, mustRead(t, ca.Cert))
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	s.Keys = &memKeys{cert: parseCert(t, listLeaf.CertPEM), key: parseKey(t, listLeaf.KeyPEM), roots: roots,
		certs: map[string]*x509.Certificate{"ann@subs.test": parseCert(t, ann.CertPEM)}}
	s.setList(t, map[string]string{"smime_post_encrypt": "yes"})

	signed := ca.Run([]byte("Content-Type: text/plain\r\n\r\nx-list-name team@lists.test\r\nremove bob@subs.test\r\n"),
		"cms", "-sign", "-signer", ann.Cert, "-inkey", ann.Key, "-md", "sha256")
	header := []byte("From: ann@subs.test\nTo: team-request@lists.test\nSubject: roster\n")
	mail := append(append([]byte{}, header...), signed...)
	s.deliver(t, queue.SubRequest, "ann@subs.test", string(mail))
	s.drain(t)
	if s.member(t, "bob@subs.test") != nil {
		t.Fatalf("the first signed remove did not act; bad: %q", s.badReasons(t))
	}

	der, b64 := testca.SignaturePart(t, mail)
	variants := []struct {
		name string
		mail []byte
	}{
		{"unsigned attribute added", testca.WithSignature(mail, b64, testca.AddUnsignedAttribute(t, der))},
		{"certificate set changed", testca.WithSignature(mail, b64, testca.AddCertificate(t, der, caCert.Raw))},
		{"BER instead of DER", testca.WithSignature(mail, b64, testca.ToBER(t, der))},
		{"encrypted to the list by the attacker", append(append([]byte{}, header...),
			ca.Run(signed, "cms", "-encrypt", "-aes256", listLeaf.Cert)...)},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			if bytes.Equal(v.mail, mail) {
				t.Fatal("the variant is the original")
			}
			readd(t, s, "bob@subs.test")
			s.deliver(t, queue.SubRequest, "ann@subs.test", string(v.mail))
			s.drain(t)
			if s.member(t, "bob@subs.test") == nil {
				t.Fatalf("the re-encoded signature removed bob again; bad: %q", s.badReasons(t))
			}
			box := s.mailbox(t, "ann@subs.test")
			reply, err := testca.Decrypt(box[len(box)-1], ann)
			if err != nil {
				reply = box[len(box)-1] // not encrypted: read it as is
			}
			if !bytes.Contains(reply, []byte("this signed message was received before")) {
				t.Fatalf("reply does not say it is a replay:\n%s", reply)
			}
		})
	}
}
