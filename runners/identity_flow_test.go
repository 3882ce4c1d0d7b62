package runners

import (
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/lists"
	"cloister/queue"
)

// Identity is the keyring's binding, never what a key claims: attacks by
// an outsider whose key carries self-signed user IDs naming the owner and
// the members, through the runners, against a real keyring, with keys,
// signatures and decryption by gpg.

// identitySite is the test site (ann owner, bob and cat members) with a
// real keyring holding a gpg-made list key, the keys of ann and bob bound
// to their addresses, and send = send.private_pgp, so that only posts with
// pgp authentication are distributed. eve (eve@evil.test) has a gpg key
// whose extra self-signed user IDs name ann and bob, not yet on file.
func identitySite(t *testing.T) (*testSite, *keyring.Keyring, map[string]*gnupg.Home) {
	t.Helper()
	s := newTestSite(t)
	k := s.useKeyring(t)
	listHome := gnupg.New(t)
	listHome.GenKey("team <team@lists.test>", "cv25519")
	if _, err := k.ImportOpenPGPSecret("team@lists.test", listHome.ExportSecret("team@lists.test"), nil); err != nil {
		t.Fatal(err)
	}
	homes := map[string]*gnupg.Home{"list": listHome}
	for _, addr := range []string{"ann@subs.test", "bob@subs.test", "eve@evil.test"} {
		h := gnupg.New(t)
		fpr := h.GenKey(strings.Split(addr, "@")[0]+" <"+addr+">", "cv25519")
		h.Import(listHome.ExportPublic("team@lists.test"))
		homes[addr] = h
		if addr == "eve@evil.test" {
			h.Run(nil, "--quick-add-uid", fpr, "Ann <ann@subs.test>")
			h.Run(nil, "--quick-add-uid", fpr, "bob@subs.test")
			continue
		}
		if _, err := k.AddOpenPGP(addr, h.ExportPublic(addr), false); err != nil {
			t.Fatal(err)
		}
	}
	s.setList(t, map[string]string{"send": "send.private_pgp", "pgp_post_encrypt": "yes"})
	return s, k, homes
}

// mailSeq makes Message-IDs unique within a test binary.
var mailSeq atomic.Int64

// signedMail is a PGP/MIME signed mail From from to the list address to
// (team@lists.test or team-request@lists.test), signed by signer's key in
// h, with text as its body.
func signedMail(h *gnupg.Home, signer, from, to, subject, text string) string {
	header := fmt.Sprintf("From: %s\nTo: %s\nSubject: %s\nDate: %s\nMessage-ID: <%d.%d@subs.test>\n",
		from, to, subject, time.Now().Format(time.RFC1123Z), time.Now().UnixNano(), mailSeq.Add(1))
	return string(h.PGPMIMESigned(header, []byte("Content-Type: text/plain; charset=utf-8\n\n"+text), signer))
}

// boundFingerprint returns the fingerprint of the key the keyring would
// encrypt to for addr, "" when there is none.
func boundFingerprint(t *testing.T, k *keyring.Keyring, addr string) string {
	t.Helper()
	e, err := k.EncryptionKeyPGP(addr, time.Now())
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
}

// received reports whether rcpt got a mail holding marker.
func received(t *testing.T, s *testSite, rcpt, marker string) bool {
	t.Helper()
	for _, m := range s.mailbox(t, rcpt) {
		if strings.Contains(string(m), marker) {
			return true
		}
	}
	return false
}

// enrolByMail binds h's key to addr as a newcomer does: key set with the
// key attached, then the challenge (encrypted to the key) answered signed
// with it. It fails the test unless the keyring then binds that key to addr.
func enrolByMail(t *testing.T, s *testSite, k *keyring.Keyring, h *gnupg.Home, addr string) string {
	t.Helper()
	key := string(h.ExportPublic(addr))
	s.deliver(t, queue.SubRequest, addr, "From: "+addr+"\nTo: team-request@lists.test\nSubject: key\n\nkey set\n\n"+key)
	s.drain(t)
	var tok string
	for _, m := range s.mailbox(t, addr) {
		if strings.Contains(string(m), "Subject: Confirm: register the OpenPGP key") {
			tok = tokenIn(t, decryptReply(t, h, string(m)))
		}
	}
	if tok == "" {
		t.Fatalf("no challenge for %s; mail:\n%s", addr, lastMail(t, s, addr))
	}
	answer := string(h.PGPMIMESigned("From: "+addr+"\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n",
		[]byte("Content-Type: text/plain\n\nyes\n"), addr))
	s.deliverConfirm(t, tok, addr, answer)
	s.drain(t)
	fpr := h.Fingerprint(addr)
	if got := boundFingerprint(t, k, addr); got != fpr {
		t.Fatalf("enrolment of %s: bound key %q, want %s; reply:\n%s", addr, got, fpr, lastMail(t, s, addr))
	}
	return fpr
}

// TestSelfClaimedUserIDsDoNotAuthenticate: eve enrols her key by mail for
// eve@evil.test; the key also carries self-signed user IDs for ann (the
// owner) and bob. Signed "as ann", her key set of bob's key, her add and
// her set of a setting are refused and change nothing; her post "as bob" is
// not distributed (it is not pgp-authenticated); her key is bound to her
// own address only. ann's and bob's own signed mail still works, and eve
// may post nothing as herself either (she is no member).
func TestSelfClaimedUserIDsDoNotAuthenticate(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, k, homes := identitySite(t)
	eve, ann, bob := homes["eve@evil.test"], homes["ann@subs.test"], homes["bob@subs.test"]
	enrolByMail(t, s, k, eve, "eve@evil.test")
	bobFpr := boundFingerprint(t, k, "bob@subs.test")

	// As the owner: key set of bob's key to eve's, add, set.
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedMail(eve, "eve@evil.test", "ann@subs.test", "team-request@lists.test", "cmds",
		"x-list-name team@lists.test\nkey set bob@subs.test\n\n"+string(eve.ExportPublic("eve@evil.test"))))
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedMail(eve, "eve@evil.test", "Ann <ann@subs.test>", "team-request@lists.test", "cmds",
		"x-list-name team@lists.test\nadd mallory@evil.test\nset subject_prefix [pwned]\n"))
	// As a member: a post.
	s.deliver(t, queue.SubPost, "bob@subs.test", signedMail(eve, "eve@evil.test", "bob@subs.test", "team@lists.test", "hi", "EVE-AS-BOB-7f3\n"))
	s.drain(t)

	if got := boundFingerprint(t, k, "bob@subs.test"); got != bobFpr {
		t.Fatalf("bob's key replaced by a mail signed with eve's key: %s", got)
	}
	if s.member(t, "mallory@evil.test") != nil {
		t.Fatal("eve's add, signed as the owner, was carried out")
	}
	if l := s.list(t); l.Settings.SubjectPrefix == "[pwned]" {
		t.Fatal("eve's set, signed as the owner, was carried out")
	}
	for _, rcpt := range []string{"cat@subs.test", "ann@subs.test", "bob@subs.test"} {
		for _, m := range s.mailbox(t, rcpt) {
			if strings.Contains(string(m), "EVE-AS-BOB-7f3") && !strings.Contains(string(m), "Subject: Re") &&
				strings.Contains(string(m), "List-Id") {
				t.Fatalf("eve's post as bob was distributed to %s:\n%s", rcpt, m)
			}
		}
	}
	if received(t, s, "cat@subs.test", "EVE-AS-BOB-7f3") {
		t.Fatal("cat received eve's post as bob")
	}
	// The owner's reply says why: the signature was not counted.
	reply := decryptReply(t, ann, lastMail(t, s, "ann@subs.test"))
	if !strings.Contains(reply, "refused") {
		t.Fatalf("reply to the mail signed as ann:\n%s", reply)
	}
	// Her key is bound to her address only, whatever its user IDs say.
	for _, a := range []string{"ann@subs.test", "bob@subs.test"} {
		if f := boundFingerprint(t, k, a); f == eve.Fingerprint("eve@evil.test") {
			t.Fatalf("eve's key is bound to %s", a)
		}
	}

	// The owner and the member themselves still speak.
	newKey := gnupg.New(t)
	catFpr := newKey.GenKey("cat <cat@subs.test>", "cv25519")
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedMail(ann, "ann@subs.test", "ann@subs.test", "team-request@lists.test", "cmds",
		"x-list-name team@lists.test\nadd fred@subs.test\nkey set cat@subs.test\n\n"+string(newKey.ExportPublic("cat@subs.test"))))
	s.deliver(t, queue.SubPost, "bob@subs.test", signedMail(bob, "bob@subs.test", "Bob <bob@subs.test>", "team@lists.test", "hi", "BOB-HIMSELF-2c1\n"))
	s.drain(t)
	if s.member(t, "fred@subs.test") == nil {
		t.Fatalf("the owner's signed add failed; reply:\n%s", decryptReply(t, ann, lastMail(t, s, "ann@subs.test")))
	}
	if got := boundFingerprint(t, k, "cat@subs.test"); got != catFpr {
		t.Fatalf("the owner's signed key set failed: cat's key %q; reply:\n%s", got, decryptReply(t, ann, lastMail(t, s, "ann@subs.test")))
	}
	if !received(t, s, "cat@subs.test", "BOB-HIMSELF-2c1") {
		t.Fatal("bob's own signed post was not distributed")
	}
}

// list returns the site's team list as stored.
func (s *testSite) list(t *testing.T) *lists.List {
	t.Helper()
	var l *lists.List
	err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		l, err = tx.List("team@lists.test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// TestSMIMECertNotOnFileDoesNotAuthenticate: the site trusts the test CA;
// ann (owner) and bob have their certificates on file. A second
// certificate from the same trusted CA naming bob's address (another
// openssl-made key) signs a post as bob, and another naming ann's address
// signs an add as ann: neither authenticates (the post is not distributed,
// the add not carried out) and neither certificate is captured. ann's and
// bob's own certificates still speak, and cat, with no certificate on
// file, is authenticated by a certificate of the trusted CA (first
// contact), which is then captured.
func TestSMIMECertNotOnFileDoesNotAuthenticate(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed or encrypted mail")
	s, ca, k := smimeKeySite(t)
	s.setList(t, map[string]string{"send": "send.private_smime", "admin": "admin.signed"})
	// keptLeaf: a second Issue for the same address writes the same files.
	annLeaf := keptLeaf(t, ca.Issue("ann@subs.test", "ec", "digitalSignature,keyAgreement"))
	bobLeaf := keptLeaf(t, ca.Issue("bob@subs.test", "rsa", "digitalSignature,keyEncipherment"))
	for addr, l := range map[string]*testca.Leaf{"ann@subs.test": annLeaf, "bob@subs.test": bobLeaf} {
		if _, err := k.AddCert(addr, l.CertPEM, keyring.UseBoth); err != nil {
			t.Fatal(err)
		}
	}
	fakeBob := ca.Issue("bob@subs.test", "ec", "digitalSignature,keyAgreement")
	fakeAnn := ca.Issue("ann@subs.test", "ec", "digitalSignature,keyAgreement")
	catLeaf := ca.Issue("cat@subs.test", "ec", "digitalSignature,keyAgreement")

	post := func(from string, by *testca.Leaf, marker string) {
		s.deliver(t, queue.SubPost, from, smimeSigned(ca, "From: "+from+"\nTo: team@lists.test\nSubject: hi\n",
			"Content-Type: text/plain\n\n"+marker+"\n", by))
	}
	post("bob@subs.test", fakeBob, "FAKE-BOB-5e2")
	s.deliver(t, queue.SubRequest, "ann@subs.test", smimeSigned(ca, "From: ann@subs.test\nTo: team-request@lists.test\nSubject: cmds\n",
		"Content-Type: text/plain\n\nx-list-name team@lists.test\nadd mallory@evil.test\n", fakeAnn))
	s.drain(t)
	if received(t, s, "cat@subs.test", "FAKE-BOB-5e2") {
		t.Fatal("a post signed by a certificate not on file for bob was distributed")
	}
	if s.member(t, "mallory@evil.test") != nil {
		t.Fatal("an add signed by a certificate not on file for ann was carried out")
	}
	for addr, l := range map[string]*testca.Leaf{"ann@subs.test": fakeAnn, "bob@subs.test": fakeBob} {
		if fprs := k.SigningCerts(addr, time.Now()); slices.Contains(fprs, certFpr(t, l)) {
			t.Fatalf("the certificate not on file was captured for %s", addr)
		}
	}

	post("bob@subs.test", bobLeaf, "REAL-BOB-0a4")
	post("cat@subs.test", catLeaf, "FIRST-CAT-77b")
	s.deliver(t, queue.SubRequest, "ann@subs.test", smimeSigned(ca, "From: ann@subs.test\nTo: team-request@lists.test\nSubject: cmds\n",
		"Content-Type: text/plain\n\nx-list-name team@lists.test\nadd fred@subs.test\n", annLeaf))
	s.drain(t)
	if !received(t, s, "ann@subs.test", "REAL-BOB-0a4") {
		t.Fatal("bob's post signed with his certificate on file was not distributed")
	}
	if !received(t, s, "ann@subs.test", "FIRST-CAT-77b") {
		t.Fatal("cat's first post, signed by a certificate of the trusted CA, was not distributed")
	}
	if !slices.Contains(k.SigningCerts("cat@subs.test", time.Now()), certFpr(t, catLeaf)) {
		t.Fatal("cat's certificate was not captured on first contact")
	}
	if s.member(t, "fred@subs.test") == nil {
		t.Fatal("ann's add signed with her certificate on file was not carried out")
	}
}

// TestDisplayNameSpoofNeutralised: bob, with his key bound, signs posts
// whose From display name is ann's address, plainly and RFC 2047 encoded.
// They are authenticated (they are bob's) and distributed, but what the
// subscribers receive names bob alone: the display name is dropped. A
// harmless display name is kept.
func TestDisplayNameSpoofNeutralised(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, _, homes := identitySite(t)
	bob := homes["bob@subs.test"]
	for _, tc := range []struct{ marker, from, want string }{
		{"SPOOF-PLAIN-1a", `"ann@subs.test" <bob@subs.test>`, "From: <bob@subs.test>"},
		{"SPOOF-Q-2b", `=?utf-8?Q?ann=40subs=2Etest?= <bob@subs.test>`, "From: <bob@subs.test>"},
		{"SPOOF-B-3c", `=?UTF-8?B?QW5uIDxhbm5Ac3Vicy50ZXN0Pg==?= <bob@subs.test>`, "From: <bob@subs.test>"},
		{"HARMLESS-4d", `Bob Example <bob@subs.test>`, "From: Bob Example <bob@subs.test>"},
	} {
		s.deliver(t, queue.SubPost, "bob@subs.test", signedMail(bob, "bob@subs.test", tc.from, "team@lists.test", "budget", tc.marker+"\n"))
		s.drain(t)
		var got string
		for _, m := range s.mailbox(t, "cat@subs.test") {
			if strings.Contains(string(m), tc.marker) {
				got = string(m)
			}
		}
		if got == "" {
			t.Fatalf("%s: bob's signed post was not distributed", tc.marker)
		}
		head, _, _ := strings.Cut(strings.ReplaceAll(got, "\r\n", "\n"), "\n\n")
		var from []string
		for _, l := range strings.Split(head, "\n") {
			if strings.HasPrefix(strings.ToLower(l), "from:") {
				from = append(from, l)
			}
		}
		if len(from) != 1 || from[0] != tc.want {
			t.Errorf("%s: cat's copy has From %q, want %q", tc.marker, from, tc.want)
		}
	}
}
