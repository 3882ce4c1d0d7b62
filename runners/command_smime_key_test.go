package runners

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"cloister/commands"
	"cloister/internal/gnupg"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/queue"
)

// The key command for S/MIME certificates, through the runners, against a
// real keyring, with certificates, signatures and decryption by openssl.

// smimeKeySite is the test site with a keyring holding an openssl-made list
// certificate and trusting the test CA.
func smimeKeySite(t *testing.T) (*testSite, *testca.CA, *keyring.Keyring) {
	t.Helper()
	s := newTestSite(t)
	ca := testca.New(t)
	listLeaf := ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment")
	k := s.useKeyring(t)
	if _, err := k.ImportSMIME("team@lists.test", append(append([]byte{}, listLeaf.CertPEM...), listLeaf.KeyPEM...), ""); err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AddCert(parseCert(t, mustRead(t, ca.Cert)))
	k.SetTrust(roots, nil)
	return s, ca, k
}

// smimeSigned is what an S/MIME client sends signed (not encrypted):
// openssl cms -sign makes the multipart/signed entity.
func smimeSigned(ca *testca.CA, header string, inner string, by *testca.Leaf) string {
	return header + string(ca.Run([]byte(inner), "cms", "-sign", "-signer", by.Cert, "-inkey", by.Key, "-md", "sha256"))
}

// withCert is a MIME entity: the command text and a certificate attached
// as DER (application/pkix-cert, as mail clients attach .cer files).
func withCert(text string, l *testca.Leaf) string {
	b, _ := pem.Decode(l.CertPEM)
	enc := base64.StdEncoding.EncodeToString(b.Bytes)
	var lines []string
	for len(enc) > 76 {
		lines, enc = append(lines, enc[:76]), enc[76:]
	}
	lines = append(lines, enc)
	return "Content-Type: multipart/mixed; boundary=\"b1\"\n\n--b1\nContent-Type: text/plain\n\n" + text +
		"\n--b1\nContent-Type: application/pkix-cert; name=\"cert.cer\"\nContent-Disposition: attachment; filename=\"cert.cer\"\n" +
		"Content-Transfer-Encoding: base64\n\n" + strings.Join(lines, "\n") + "\n--b1--\n"
}

// openReply decrypts a mail with the member's key (openssl) and checks the
// list's signature against the CA (openssl); it returns the content.
func openReply(t *testing.T, ca *testca.CA, mail string, l *testca.Leaf) string {
	t.Helper()
	signed, err := testca.Decrypt([]byte(mail), l)
	if err != nil {
		t.Fatalf("openssl cannot decrypt it with %s's key: %v\n%s", l.Email, err, mail)
	}
	text, err := ca.Verify(signed)
	if err != nil {
		t.Fatalf("the list's signature does not verify: %v", err)
	}
	return string(text)
}

// keptLeaf moves a leaf's files aside, so that issuing another certificate
// for the same address does not overwrite them.
func keptLeaf(t *testing.T, l *testca.Leaf) *testca.Leaf {
	t.Helper()
	k := *l
	k.Cert, k.Key = l.Cert+".kept", l.Key+".kept"
	if err := os.Rename(l.Cert, k.Cert); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(l.Key, k.Key); err != nil {
		t.Fatal(err)
	}
	return &k
}

func certFpr(t *testing.T, l *testca.Leaf) string {
	return keyring.CertFingerprint(parseCert(t, l.CertPEM))
}

// TestCommandKeySetCert: a certificate attached to an unsigned key set gets
// a challenge encrypted to it (openssl opens it with that certificate's
// key); the token alone does not bind it; an answer S/MIME-signed with the
// certificate does. A certificate of another CA is refused at once.
func TestCommandKeySetCert(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s, ca, k := smimeKeySite(t)
	dan := ca.Issue("dan@else.test", "rsa", "digitalSignature,keyEncipherment")
	req := "From: dan@else.test\nSubject: x\nMIME-Version: 1.0\n" + withCert("key set", dan)

	s.deliver(t, queue.SubRequest, "dan@else.test", req)
	s.drain(t)
	var challenge string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm: register the S/MIME certificate") {
			challenge = string(m)
		} else if !strings.Contains(string(m), "pending: a challenge encrypted to the S/MIME certificate") {
			t.Fatalf("reply:\n%s", m)
		}
	}
	if challenge == "" || cmdConfirmRE.MatchString(strings.SplitN(challenge, "\n\n", 2)[1]) {
		t.Fatalf("no challenge, or its token is in clear:\n%s", challenge)
	}
	tok := tokenIn(t, openReply(t, ca, challenge, dan))

	s.deliverConfirm(t, tok, "dan@else.test", "From: dan@else.test\nSubject: Re: Confirm\n\nyes\n")
	s.drain(t)
	if got, _ := k.SubscriberCerts("dan@else.test", time.Now()); len(got) != 0 {
		t.Fatal("certificate registered by a token alone")
	}
	if r := lastMail(t, s, "dan@else.test"); !strings.Contains(r, "the answer is not S/MIME-signed with the certificate") {
		t.Fatalf("unsigned answer:\n%s", r)
	}

	s.deliver(t, queue.SubRequest, "dan@else.test", req)
	s.drain(t)
	box := s.mailbox(t, "dan@else.test")
	for _, m := range box[len(box)-2:] {
		if strings.Contains(string(m), "Subject: Confirm: register") {
			tok = tokenIn(t, openReply(t, ca, string(m), dan))
		}
	}
	answer := smimeSigned(ca, "From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n", "Content-Type: text/plain\n\nyes\n", dan)
	s.deliverConfirm(t, tok, "dan@else.test", answer)
	s.drain(t)
	if got, _ := k.SubscriberCerts("dan@else.test", time.Now()); !slices.Equal(got, []string{certFpr(t, dan)}) {
		t.Fatalf("certificate not registered (%v); reply:\n%s", got, lastMail(t, s, "dan@else.test"))
	}
	if r := openReply(t, ca, lastMail(t, s, "dan@else.test"), dan); !strings.Contains(r, "done: (key set-confirmed") ||
		!strings.Contains(r, "the certificate "+certFpr(t, dan)+" is registered for dan@else.test") ||
		strings.Contains(r, "signature was not counted") {
		t.Fatalf("reply to the answer:\n%s", r)
	}

	// A certificate of a CA the site does not trust is refused without a challenge.
	other := testca.New(t).Issue("eve@else.test", "rsa", "digitalSignature,keyEncipherment")
	s.deliver(t, queue.SubRequest, "eve@else.test", "From: eve@else.test\nSubject: x\nMIME-Version: 1.0\n"+withCert("key set", other))
	s.drain(t)
	if r := oneReply(t, s, "eve@else.test"); !strings.Contains(r, "refused: the attached certificate cannot be taken for eve@else.test") {
		t.Fatalf("untrusted certificate:\n%s", r)
	}
}

// TestCommandKeyChangeCert: key change with a certificate attached is
// refused unsigned, and done when S/MIME-signed by a certificate of the
// sender: the new certificate replaces the old one, and the reply is
// encrypted to the new one.
func TestCommandKeyChangeCert(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s, ca, k := smimeKeySite(t)
	old := keptLeaf(t, ca.Issue("bob@subs.test", "rsa", "digitalSignature,keyEncipherment"))
	renewed := ca.Issue("bob@subs.test", "ec", "digitalSignature,keyAgreement")
	if _, err := k.SetCert("bob@subs.test", parseCert(t, old.CertPEM).Raw, true); err != nil {
		t.Fatal(err)
	}

	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: x\nMIME-Version: 1.0\n"+withCert("x-list-name team@lists.test\nkey change", renewed))
	s.drain(t)
	if r := openReply(t, ca, lastMail(t, s, "bob@subs.test"), old); !strings.Contains(r, "refused: key requests must be signed by the key's holder") {
		t.Fatalf("unsigned key change:\n%s", r)
	}
	if got, _ := k.SubscriberCerts("bob@subs.test", time.Now()); !slices.Equal(got, []string{certFpr(t, old)}) {
		t.Fatalf("unsigned key change changed the certificates: %v", got)
	}

	s.deliver(t, queue.SubRequest, "bob@subs.test", smimeSigned(ca, "From: bob@subs.test\nTo: team-request@lists.test\nSubject: x\n",
		withCert("x-list-name team@lists.test\nkey change", renewed), old))
	s.drain(t)
	if got, _ := k.SubscriberCerts("bob@subs.test", time.Now()); !slices.Equal(got, []string{certFpr(t, renewed)}) {
		t.Fatalf("after key change: %v, want only the new certificate", got)
	}
	if r := openReply(t, ca, lastMail(t, s, "bob@subs.test"), renewed); !strings.Contains(r, "done: the certificate for bob@subs.test is now "+certFpr(t, renewed)) {
		t.Fatalf("signed key change:\n%s", r)
	}
}

// TestCommandKeyRevokeCert: key revoke S/MIME-signed withdraws the signing
// certificate: the list stops encrypting to it, a later post signed with it
// does not count as signed, and it is not captured again. Unsigned, it is
// refused.
func TestCommandKeyRevokeCert(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s, ca, k := smimeKeySite(t)
	bob := ca.Issue("bob@subs.test", "rsa", "digitalSignature,keyEncipherment")
	if _, err := k.SetCert("bob@subs.test", parseCert(t, bob.CertPEM).Raw, true); err != nil {
		t.Fatal(err)
	}
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: x\n\nx-list-name team@lists.test\nkey revoke\n")
	s.drain(t)
	if r := openReply(t, ca, lastMail(t, s, "bob@subs.test"), bob); !strings.Contains(r, "refused:") {
		t.Fatalf("unsigned key revoke:\n%s", r)
	}
	if k.CertWithdrawn(certFpr(t, bob)) {
		t.Fatal("unsigned key revoke withdrew the certificate")
	}

	s.deliver(t, queue.SubRequest, "bob@subs.test", smimeSigned(ca, "From: bob@subs.test\nTo: team-request@lists.test\nSubject: x\n",
		"Content-Type: text/plain\n\nx-list-name team@lists.test\nkey revoke\n", bob))
	s.drain(t)
	if !k.CertWithdrawn(certFpr(t, bob)) {
		t.Fatalf("certificate not withdrawn; reply:\n%s", lastMail(t, s, "bob@subs.test"))
	}
	r := lastMail(t, s, "bob@subs.test")
	if strings.Contains(r, "application/pkcs7-mime") {
		t.Fatalf("the reply is encrypted to the withdrawn certificate:\n%s", r)
	}
	text, err := ca.Verify([]byte(r))
	if err != nil || !strings.Contains(string(text), "done: the certificate "+certFpr(t, bob)+" is withdrawn") {
		t.Fatalf("reply (%v):\n%s", err, text)
	}

	// A command signed with the withdrawn certificate is taken as unsigned.
	s.deliver(t, queue.SubRequest, "bob@subs.test", smimeSigned(ca, "From: bob@subs.test\nTo: team-request@lists.test\nSubject: x\n",
		"Content-Type: text/plain\n\nx-list-name team@lists.test\nkey revoke\n", bob))
	s.drain(t)
	text, _ = ca.Verify([]byte(lastMail(t, s, "bob@subs.test")))
	if !strings.Contains(string(text), "refused: key requests must be signed by the key's holder") {
		t.Fatalf("signature of a withdrawn certificate counted:\n%s", text)
	}
	if err := k.Capture("bob@subs.test", parseCert(t, bob.CertPEM).Raw); err == nil {
		t.Fatal("withdrawn certificate captured again")
	}
}

// TestCommandOwnerKeySetCert: an owner's S/MIME-signed key set ADDRESS
// binds the attached certificate to a member (the owner's word: even one
// of a CA the site does not trust).
func TestCommandOwnerKeySetCert(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s, ca, k := smimeKeySite(t)
	ann := ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment")
	cat := testca.New(t).Issue("cat@subs.test", "rsa", "digitalSignature,keyEncipherment")
	s.deliver(t, queue.SubRequest, "ann@subs.test", smimeSigned(ca, "From: ann@subs.test\nTo: team-request@lists.test\nSubject: x\n",
		withCert("x-list-name team@lists.test\nkey set cat@subs.test", cat), ann))
	s.drain(t)
	if got, _ := k.SubscriberCerts("cat@subs.test", time.Now()); !slices.Equal(got, []string{certFpr(t, cat)}) {
		t.Fatalf("owner's key set: %v; reply:\n%s", got, lastMail(t, s, "ann@subs.test"))
	}
	// bob, not an owner, cannot.
	bob := ca.Issue("bob@subs.test", "rsa", "digitalSignature,keyEncipherment")
	s.deliver(t, queue.SubRequest, "bob@subs.test", smimeSigned(ca, "From: bob@subs.test\nTo: team-request@lists.test\nSubject: x\n",
		withCert("x-list-name team@lists.test\nkey set cat@subs.test", bob), bob))
	s.drain(t)
	if r := openReply(t, ca, lastMail(t, s, "bob@subs.test"), bob); !strings.Contains(r, "refused: only list owners may do this") {
		t.Fatalf("member's key set ADDRESS:\n%s", r)
	}
}

// TestCommandSubscribeWithCert: a subscription request carrying a
// certificate gets its confirmation encrypted to it; the address is
// subscribed with the certificate when the answer is signed with it, and
// the welcome carries the list's certificate.
func TestCommandSubscribeWithCert(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s, ca, k := smimeKeySite(t)
	dan := ca.Issue("dan@else.test", "rsa", "digitalSignature,keyEncipherment")
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\nMIME-Version: 1.0\n"+withCert("subscribe Dan", dan))
	s.drain(t)
	var tok string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm: subscribe dan@else.test") {
			tok = tokenIn(t, openReply(t, ca, string(m), dan))
		}
	}
	if tok == "" {
		t.Fatalf("no challenge: %q", s.mailbox(t, "dan@else.test"))
	}
	answer := smimeSigned(ca, "From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n", "Content-Type: text/plain\n\nyes\n", dan)
	s.deliverConfirm(t, tok, "dan@else.test", answer)
	s.drain(t)
	if s.member(t, "dan@else.test") == nil {
		t.Fatalf("not subscribed: %q", s.mailbox(t, "dan@else.test"))
	}
	if got, _ := k.SubscriberCerts("dan@else.test", time.Now()); !slices.Equal(got, []string{certFpr(t, dan)}) {
		t.Fatalf("certificate not bound: %v", got)
	}
	welcomed := false
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Welcome to team@lists.test") {
			text := openReply(t, ca, string(m), dan)
			welcomed = strings.Contains(text, "team.pem") && strings.Contains(text, "-----BEGIN CERTIFICATE-----") ||
				strings.Contains(text, "team.pem") && strings.Contains(text, "Content-Transfer-Encoding: base64")
		}
	}
	if !welcomed {
		t.Fatal("the welcome does not carry the list's certificate")
	}
}

// TestCommandSubscribeKeyOfOtherKind: an OpenPGP key attached to a
// subscription request for a list that has only an S/MIME certificate (a
// client attaching its key by habit) is left aside: the usual confirmation
// is asked for, and nothing fails.
func TestCommandSubscribeKeyOfOtherKind(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, _, _ := smimeKeySite(t)
	h := gnupg.New(t)
	h.GenKey("dan <dan@else.test>", "cv25519")
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nsubscribe\n\n"+string(h.ExportPublic("dan@else.test")))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	var confirm string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm: subscribe dan@else.test") {
			confirm = string(m)
		}
	}
	if confirm == "" {
		t.Fatalf("no confirmation request: %q", s.mailbox(t, "dan@else.test"))
	}
	tok := tokenIn(t, confirm)
	s.deliverConfirm(t, tok, "dan@else.test", "From: dan@else.test\nSubject: Re: Confirm\n\nyes\n")
	s.drain(t)
	if s.member(t, "dan@else.test") == nil {
		t.Fatalf("not subscribed: %q", s.mailbox(t, "dan@else.test"))
	}
}

// TestEnrolOwnerCert: under key_enrolment owner a certificate proven by an
// answer S/MIME-signed with it (a mail reader who got a certificate for the
// member's address from a CA that checks only the mailbox can do as much)
// is not bound until an owner approves it on the server; then it is, and the
// member is told in clear, signed by the list.
func TestEnrolOwnerCert(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s, ca, k := smimeKeySite(t)
	s.setList(t, map[string]string{"key_enrolment": "owner"})
	dan := ca.Issue("dan@else.test", "rsa", "digitalSignature,keyEncipherment")
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\nMIME-Version: 1.0\n"+withCert("key set", dan))
	s.drain(t)
	var tok string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm: register the S/MIME certificate") {
			tok = tokenIn(t, openReply(t, ca, string(m), dan))
		}
	}
	s.deliverConfirm(t, tok, "dan@else.test", smimeSigned(ca, "From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n", "Content-Type: text/plain\n\nyes\n", dan))
	s.drain(t)
	if got, _ := k.SubscriberCerts("dan@else.test", time.Now()); len(got) != 0 {
		t.Fatalf("the certificate was bound without the owner: %v", got)
	}
	var id string
	for _, m := range s.mailbox(t, "ann@subs.test") {
		if sm := keyRequestRE.FindStringSubmatch(string(m)); sm != nil && strings.Contains(string(m), "Subject: Key request ") {
			id = sm[1]
		}
	}
	if id == "" {
		t.Fatalf("the owner was not asked; ann's mailbox: %q", s.mailbox(t, "ann@subs.test"))
	}
	text, mails, err := commands.KeyRequestDecision(s.Site, keyStore(s.Site), "team@lists.test", id, "the operator", true, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := k.SubscriberCerts("dan@else.test", time.Now()); !slices.Equal(got, []string{certFpr(t, dan)}) || !strings.Contains(text, certFpr(t, dan)) {
		t.Fatalf("after approval: %v (%s)", got, text)
	}
	var toDan string
	for _, m := range mails {
		if m.To == "dan@else.test" {
			toDan = string(m.Data)
		}
	}
	if strings.Contains(toDan, "application/pkcs7-mime") {
		t.Fatalf("the announcement to dan is encrypted:\n%s", toDan)
	}
	if body, err := ca.Verify([]byte(toDan)); err != nil || !strings.Contains(string(body), "approved by the list owner the operator") {
		t.Fatalf("announcement to dan (%v):\n%s", err, body)
	}
}
