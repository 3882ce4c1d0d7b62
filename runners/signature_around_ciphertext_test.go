package runners

import (
	"strings"
	"testing"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestSMIMESignatureAroundCapturedCiphertext: bob posts signed inside the
// encryption, as S/MIME clients send it. An attacker who captured the
// envelope signs it, as it is, with a certificate of her own that is on file
// for her address, and sends it under her own From: eve, an outsider, to
// LIST-request; cat, a member, to the list. A signature that covers only
// ciphertext says nothing about the plaintext: eve must get nothing of
// bob's text back (a decryption oracle), and bob's post must not be
// distributed again under cat's signature (a replay that the store does not
// see, since the signature it checks is new). Through the runners, with
// openssl, for AES-CBC and AES-GCM envelopes.
func TestSMIMESignatureAroundCapturedCiphertext(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	p := newSMIMEParty(t)
	eve := p.ca.Issue("eve@evil.test", "rsa", "digitalSignature,keyEncipherment")
	cat := p.ca.Issue("cat@subs.test", "rsa", "digitalSignature,keyEncipherment")
	for _, cipher := range []string{"-aes256", "-aes-256-gcm"} {
		t.Run(cipher, func(t *testing.T) { signAroundCiphertext(t, p, eve, cat, cipher) })
	}
}

func signAroundCiphertext(t *testing.T, p *smimeParty, eve, cat *testca.Leaf, cipher string) {
	s := p.site(t, nil)
	keys := s.mem
	keys.certs["eve@evil.test"] = parseCert(t, eve.CertPEM)
	keys.certs["cat@subs.test"] = parseCert(t, cat.CertPEM)
	const marker = "BOB-SECRET-9d41"
	bob := p.leaves["bob@subs.test"]
	bobSigned := p.ca.Run([]byte("Content-Type: text/plain\r\n\r\nx-list-name team@lists.test\r\nhelp\r\n"+marker+"\r\n"),
		"cms", "-sign", "-signer", bob.Cert, "-inkey", bob.Key, "-md", "sha256")
	captured := p.ca.Run(bobSigned, "cms", "-encrypt", cipher, p.list.Cert)
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: Budget\n"+
		"Message-ID: <bob-budget@subs.test>\n"+string(captured))
	s.drain(t)
	if !strings.Contains(openReply(t, p.ca, lastMail(t, s, "ann@subs.test"), p.leaves["ann@subs.test"]), marker) {
		t.Fatalf("bob's own post was not distributed; bad: %q", s.badReasons(t))
	}
	bobBefore := len(s.mailbox(t, "bob@subs.test"))

	wrap := func(l *testca.Leaf) string {
		return string(p.ca.Run(captured, "cms", "-sign", "-signer", l.Cert, "-inkey", l.Key, "-md", "sha256"))
	}
	s.deliver(t, queue.SubRequest, "eve@evil.test", "From: eve@evil.test\nTo: team-request@lists.test\nSubject: x\n"+
		"Message-ID: <eve-1@evil.test>\n"+wrap(eve))
	s.deliver(t, queue.SubPost, "cat@subs.test", "From: cat@subs.test\nTo: team@lists.test\nSubject: Budget again\n"+
		"Message-ID: <cat-1@subs.test>\n"+wrap(cat))
	s.drain(t)

	for _, m := range s.mailbox(t, "eve@evil.test") {
		text := string(m)
		if pt, err := testca.Decrypt(m, eve); err == nil {
			text = string(pt)
		}
		if strings.Contains(text, marker) {
			t.Fatalf("eve got word of bob's plaintext back by signing his ciphertext:\n%s", text)
		}
	}
	// bob, a plain member, gets posts only (ann, the moderator, may get
	// the mail held, encrypted to her).
	for _, m := range s.mailbox(t, "bob@subs.test")[bobBefore:] {
		text := string(m)
		if pt, err := testca.Decrypt(m, bob); err == nil {
			text = string(pt)
		}
		if strings.Contains(text, marker) {
			t.Fatalf("bob's post was distributed again under cat's signature:\n%s", text)
		}
	}
}
