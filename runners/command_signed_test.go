package runners

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/lists"
	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// storeKeys is memKeys that the key commands can change (commands.KeyStore).
type storeKeys struct{ *memKeys }

func (k storeKeys) SubscriberPGP(addr string) (string, error) {
	if e, ok := k.subs[addr]; ok {
		return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint), nil
	}
	return "", nil
}

func (k storeKeys) SetSubscriberPGP(addr string, key []byte, now time.Time) (string, error) {
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(key))
	if err != nil {
		return "", err
	}
	k.subs[addr] = el[0]
	return fmt.Sprintf("%X", el[0].PrimaryKey.Fingerprint), nil
}

func (k storeKeys) RevokeSubscriberPGP(addr string) error {
	delete(k.subs, addr)
	return nil
}

func (k storeKeys) CertifyListPGP(list string, c keyring.ListCert) error {
	k.listCerts[c.Issuer] = c
	return nil
}

func (k storeKeys) ListCertificationsPGP(list string) ([]keyring.ListCert, error) {
	var out []keyring.ListCert
	for _, c := range k.listCerts {
		out = append(out, c)
	}
	return out, nil
}

// errNoCerts: the S/MIME key commands are tested against a real keyring
// (command_smime_key_test.go); this store is for the OpenPGP ones.
var errNoCerts = errors.New("storeKeys keeps no subscriber certificates")

func (k storeKeys) SubscriberCerts(string) ([]string, error)               { return nil, nil }
func (k storeKeys) CheckCert(string, []byte) (string, error)               { return "", errNoCerts }
func (k storeKeys) SetSubscriberCert(string, []byte, bool) (string, error) { return "", errNoCerts }
func (k storeKeys) WithdrawCert(string, []byte) (string, error)            { return "", errNoCerts }
func (k storeKeys) CertByFingerprint(string) ([]byte, bool)                { return nil, false }

// keySite is the test site with a gpg-made list key and gpg keys for ann
// (owner) and bob; dan has no key on file but holds the list key.
func keySite(t *testing.T) (*testSite, map[string]*gnupg.Home, storeKeys) {
	return keySiteOn(t, newTestSite(t))
}

// keySiteOn is keySite on a test site made already.
func keySiteOn(t *testing.T, s *testSite) (*testSite, map[string]*gnupg.Home, storeKeys) {
	listHome := gnupg.New(t)
	fixtureKey(t, listHome, "team <team@lists.test>", "cv25519")
	keys := storeKeys{&memKeys{list: openpgp.EntityList{readKey(t, listHome.ExportSecret("team@lists.test"))}, subs: map[string]*openpgp.Entity{}, listCerts: map[string]keyring.ListCert{}}}
	homes := map[string]*gnupg.Home{}
	for _, addr := range []string{"ann@subs.test", "bob@subs.test", "dan@else.test"} {
		h := gnupg.New(t)
		fixtureKey(t, h, strings.Split(addr, "@")[0]+" <"+addr+">", "cv25519")
		h.Import(listHome.ExportPublic("team@lists.test"))
		if addr != "dan@else.test" {
			keys.subs[addr] = readKey(t, h.ExportPublic(addr))
		}
		homes[addr] = h
	}
	homes["list"] = listHome
	s.Keys, s.KeyStore = keys, keys
	s.setList(t, map[string]string{"pgp_post_encrypt": "yes"})
	return s, homes, keys
}

func signedCommands(h *gnupg.Home, from, subject, text string) string {
	return string(h.PGPMIMESigned("From: "+from+"\nTo: team-request@lists.test\nSubject: "+subject+"\nMessage-ID: <"+fmt.Sprint(time.Now().UnixNano())+"@subs.test>\n",
		[]byte("Content-Type: text/plain; charset=utf-8\n\n"+text), from))
}

// lastMail returns the last mail rcpt received, leaving aside the
// announcements of key changes (keyNotices finds those).
func lastMail(t *testing.T, s *testSite, rcpt string) string {
	t.Helper()
	box := s.mailbox(t, rcpt)
	for i := len(box) - 1; i >= 0; i-- {
		if !isKeyNotice(string(box[i])) {
			return string(box[i])
		}
	}
	t.Fatalf("%s got nothing", rcpt)
	return ""
}

// isKeyNotice tells the announcement of a key change, to the address or to
// an owner, from other mail.
func isKeyNotice(m string) bool {
	return strings.Contains(m, "\nSubject: The key for ") || strings.Contains(m, "\nSubject: Key changed: ")
}

// keyNotices returns the announcements of key changes rcpt received.
func keyNotices(t *testing.T, s *testSite, rcpt string) []string {
	t.Helper()
	var out []string
	for _, m := range s.mailbox(t, rcpt) {
		if isKeyNotice(string(m)) {
			out = append(out, string(m))
		}
	}
	return out
}

// decryptReply opens an encrypted reply with the recipient's gpg.
func decryptReply(t *testing.T, h *gnupg.Home, mail string) string {
	t.Helper()
	if !strings.Contains(mail, "multipart/encrypted") {
		t.Fatalf("reply is not encrypted:\n%s", mail)
	}
	pt, status, err := h.Decrypt(armoredPart(t, []byte(mail)))
	if err != nil {
		t.Fatalf("decrypt reply: %v\n%s", err, status)
	}
	if !strings.Contains(status, "GOODSIG") {
		t.Fatalf("reply not signed by the list:\n%s", status)
	}
	return strings.ReplaceAll(string(pt), "\r\n", "\n")
}

// TestCommandSignedRemoveReplayed: an owner's signed remove works once; the
// same mail again is refused, as is a signed mail that does not name the
// list, one signed by a non-owner and an owner command in the Subject.
func TestCommandSignedRemoveReplayed(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	mail := signedCommands(homes["ann@subs.test"], "ann@subs.test", "cmds", "x-list-name team@lists.test\nremove bob@subs.test\n")
	s.deliver(t, queue.SubRequest, "ann@subs.test", mail)
	s.drain(t)
	if s.member(t, "bob@subs.test") != nil {
		t.Fatalf("bob not removed; reply:\n%s", decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test")))
	}
	if r := decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test")); !strings.Contains(r, "done: bob@subs.test is unsubscribed") {
		t.Fatalf("reply:\n%s", r)
	}
	s.Lists.Update(func(tx *lists.Tx) error {
		return tx.AddMember("team@lists.test", &lists.Member{Address: "bob@subs.test"})
	})

	s.deliver(t, queue.SubRequest, "ann@subs.test", mail)
	s.drain(t)
	if s.member(t, "bob@subs.test") == nil {
		t.Fatal("replayed remove carried out")
	}
	if r := decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test")); !strings.Contains(r, "refused: this signed message was received before") {
		t.Fatalf("replay reply:\n%s", r)
	}

	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "cmds", "remove bob@subs.test\n"))
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(homes["bob@subs.test"], "bob@subs.test", "cmds", "x-list-name team\nremove cat@subs.test\n"))
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "remove bob@subs.test", "x-list-name team@lists.test\n"))
	s.drain(t)
	if s.member(t, "bob@subs.test") == nil || s.member(t, "cat@subs.test") == nil {
		t.Fatal("a refused remove was carried out")
	}
	box := s.mailbox(t, "ann@subs.test")
	unnamed := decryptReply(t, homes["ann@subs.test"], string(box[len(box)-2]))
	subject := decryptReply(t, homes["ann@subs.test"], string(box[len(box)-1]))
	if strings.Contains(subject, "x-list-name") {
		unnamed, subject = subject, unnamed
	}
	if !strings.Contains(unnamed, "Your signature was not counted") || !strings.Contains(unnamed, "refused: only list owners may do this") {
		t.Fatalf("reply to the mail without x-list-name:\n%s", unnamed)
	}
	if !strings.Contains(subject, "(from the Subject line: taken as unsigned)\n  refused: only list owners") {
		t.Fatalf("reply to the Subject command:\n%s", subject)
	}
	if r := decryptReply(t, homes["bob@subs.test"], lastMail(t, s, "bob@subs.test")); !strings.Contains(r, "refused: only list owners may do this") {
		t.Fatalf("bob's reply:\n%s", r)
	}
}

// TestCommandSignedOwnerCommands: add, members, set and approve in an
// owner's signed mail.
func TestCommandSignedOwnerCommands(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	s.setList(t, map[string]string{"send": "send.editorkey"})
	s.deliver(t, queue.SubPost, "cat@subs.test", "From: cat@subs.test\nTo: team@lists.test\nSubject: Hello\n\nheld post\n")
	s.drain(t)
	var held []*lists.Held
	s.Lists.View(func(tx *lists.Tx) error { held, _ = tx.HeldFor("team@lists.test"); return nil })
	if len(held) != 1 {
		t.Fatalf("%d held", len(held))
	}
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "cmds",
		"x-list-name team@lists.test\nadd dan@else.test Dan\nset subject_prefix [t]\nset pgp_post_encrypt no\napprove "+held[0].ID+"\ndiscard 000000000000\nmembers\n"))
	s.drain(t)
	r := decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test"))
	for _, want := range []string{"done: dan@else.test is subscribed", "done: subject_prefix is now \"[t]\"",
		"refused: \"pgp_post_encrypt\" cannot be set by mail", "done: post " + held[0].ID + " approved",
		"refused: no held post 000000000000", "done: 4 on team@lists.test:", "ann@subs.test  member,owner  delivery enabled"} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
	if m := s.member(t, "dan@else.test"); m == nil || m.Name != "Dan" {
		t.Fatalf("dan = %+v", m)
	}
	found := false
	for _, m := range s.mailbox(t, "bob@subs.test") {
		found = found || strings.Contains(string(m), "held post")
	}
	if !found {
		t.Fatal("approved post not distributed to bob")
	}
	// dan (no key on file) gets a welcome signed by the list, with its key.
	var welcome string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Welcome to team@lists.test") {
			welcome = string(m)
		}
	}
	if !strings.Contains(welcome, "multipart/signed") || !strings.Contains(welcome, "application/pgp-keys") {
		t.Fatalf("welcome:\n%s", welcome)
	}
}

// TestCommandEncryptedReply: an encrypted command mail is answered
// encrypted to a sender with a key on file, and without any of its content
// to a sender without one.
func TestCommandEncryptedReply(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	inner := []byte("Content-Type: text/plain\n\nwhich\ninfo\n")
	s.deliver(t, queue.SubRequest, "bob@subs.test", string(homes["bob@subs.test"].PGPMIMEEncrypted(
		"From: bob@subs.test\nTo: team-request@lists.test\nSubject: ...\n", inner, true, "bob@subs.test", "team@lists.test")))
	s.deliver(t, queue.SubRequest, "dan@else.test", string(homes["dan@else.test"].PGPMIMEEncrypted(
		"From: dan@else.test\nTo: team-request@lists.test\nSubject: ...\n", inner, false, "dan@else.test", "team@lists.test")))
	s.drain(t)
	r := decryptReply(t, homes["bob@subs.test"], oneReply(t, s, "bob@subs.test"))
	if !strings.Contains(r, "> which\n  done: bob@subs.test is on:") {
		t.Fatalf("bob's reply:\n%s", r)
	}
	d := oneReply(t, s, "dan@else.test")
	if strings.Contains(d, " is on") || strings.Contains(d, "List:") || !strings.Contains(d, "which: done\n  info: done") {
		t.Fatalf("dan's reply repeats the encrypted commands:\n%s", d)
	}
}

// TestCommandKeyGetAndChange: key get sends the list key in a signed reply;
// key change needs a mail signed with the key on file.
func TestCommandKeyGetAndChange(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, keys := keySite(t)
	s.deliver(t, queue.SubSendkey, "dan@else.test", "From: dan@else.test\nSubject: key\n\n")
	s.drain(t)
	r := oneReply(t, s, "dan@else.test")
	if !strings.Contains(r, "multipart/signed") || !strings.Contains(r, "application/pgp-keys") || !strings.Contains(r, "done: OpenPGP key") {
		t.Fatalf("key get reply:\n%s", r)
	}
	old := fmt.Sprintf("%X", keys.subs["bob@subs.test"].PrimaryKey.Fingerprint)
	nh := gnupg.New(t)
	newFpr := nh.GenKey("bob <bob@subs.test>", "cv25519")
	newKey := string(nh.ExportPublic("bob@subs.test"))

	// Unsigned: refused, whatever is attached.
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: x\n\nx-list-name team@lists.test\nkey change\n\n"+newKey)
	// Signed by someone else's key for bob's address: cat has no key, so
	// the signature is not good and the method is smtp.
	s.drain(t)
	if got := fmt.Sprintf("%X", keys.subs["bob@subs.test"].PrimaryKey.Fingerprint); got != old {
		t.Fatal("key changed by an unsigned request")
	}
	if r := decryptReply(t, homes["bob@subs.test"], lastMail(t, s, "bob@subs.test")); !strings.Contains(r, "> key change\n  refused: key requests must be signed") {
		t.Fatalf("unsigned key change reply:\n%s", r)
	}
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(homes["bob@subs.test"], "bob@subs.test", "x",
		"x-list-name team@lists.test\nkey change\n\n"+newKey))
	s.drain(t)
	if got := fmt.Sprintf("%X", keys.subs["bob@subs.test"].PrimaryKey.Fingerprint); got != newFpr {
		box := s.mailbox(t, "bob@subs.test")
		t.Fatalf("key = %s, want %s; reply:\n%s", got, newFpr, box[len(box)-1])
	}
}

// TestCommandKeySet: dan, with no key on file, attaches one; the challenge
// is encrypted to it; an unsigned answer does not register it, a signed
// one does.
func TestCommandKeySet(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	dan := homes["dan@else.test"]
	key := string(dan.ExportPublic("dan@else.test"))
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nkey set\n\n"+key)
	s.drain(t)
	var challenge string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm: register the OpenPGP key") {
			challenge = string(m)
		} else if !strings.Contains(string(m), "pending: a challenge encrypted to the OpenPGP key") {
			t.Fatalf("reply:\n%s", m)
		}
	}
	if cmdConfirmRE.MatchString(strings.SplitN(challenge, "\n\n", 2)[1]) {
		t.Fatalf("the challenge token is in clear:\n%s", challenge)
	}
	pt := decryptReply(t, dan, challenge)
	tok := tokenIn(t, pt)

	// The token alone (unsigned) does not register the key, and is spent.
	s.deliverConfirm(t, tok, "dan@else.test", "From: dan@else.test\nSubject: Re: Confirm\n\nyes\n")
	s.drain(t)
	if _, ok := keys.subs["dan@else.test"]; ok {
		t.Fatal("key registered by a token alone")
	}
	if r := lastMail(t, s, "dan@else.test"); !strings.Contains(r, "the answer is not signed with the key") {
		t.Fatalf("unsigned answer:\n%s", r)
	}

	// Again, answered signed with the key.
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nkey set\n\n"+key)
	s.drain(t)
	box := s.mailbox(t, "dan@else.test")
	for _, m := range box[len(box)-2:] {
		if strings.Contains(string(m), "Subject: Confirm: register") {
			tok = tokenIn(t, decryptReply(t, dan, string(m)))
		}
	}
	signed := string(dan.PGPMIMESigned("From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n", []byte("Content-Type: text/plain\n\nyes\n"), "dan@else.test"))
	s.deliverConfirm(t, tok, "dan@else.test", signed)
	s.drain(t)
	if _, ok := keys.subs["dan@else.test"]; !ok {
		t.Fatalf("key not registered; reply:\n%s", lastMail(t, s, "dan@else.test"))
	}
	// bob has a key: key set is refused, key change is the way.
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: x\n\nkey set\n\n"+string(homes["bob@subs.test"].ExportPublic("bob@subs.test")))
	s.drain(t)
	if r := decryptReply(t, homes["bob@subs.test"], lastMail(t, s, "bob@subs.test")); !strings.Contains(r, "refused: a key is on file for bob@subs.test; use key change") {
		t.Fatalf("bob's reply:\n%s", r)
	}
}

// TestCommandSubscribeWithKey: a subscription request carrying a key gets
// its confirmation encrypted to that key; the key is bound (and the address
// subscribed) only when the answer is signed with it.
func TestCommandSubscribeWithKey(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	dan := homes["dan@else.test"]
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nsubscribe Dan\n\n"+string(dan.ExportPublic("dan@else.test")))
	s.drain(t)
	var tok string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm: subscribe dan@else.test") {
			tok = tokenIn(t, decryptReply(t, dan, string(m)))
		}
	}
	if tok == "" {
		t.Fatal("no encrypted confirmation request")
	}
	signed := string(dan.PGPMIMESigned("From: dan@else.test\nSubject: Re: Confirm\n", []byte("Content-Type: text/plain\n\nyes\n"), "dan@else.test"))
	s.deliverConfirm(t, tok, "dan@else.test", signed)
	s.drain(t)
	if m := s.member(t, "dan@else.test"); m == nil || m.Name != "Dan" {
		t.Fatalf("member = %+v; reply:\n%s", m, lastMail(t, s, "dan@else.test"))
	}
	if _, ok := keys.subs["dan@else.test"]; !ok {
		t.Fatal("key not bound")
	}
}

// TestCommandSubscribeWithKeyUnsigned: the same, answered without a
// signature: nothing happens.
func TestCommandSubscribeWithKeyUnsigned(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	dan := homes["dan@else.test"]
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nsubscribe\n\n"+string(dan.ExportPublic("dan@else.test")))
	s.drain(t)
	var tok string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm: subscribe dan@else.test") {
			tok = tokenIn(t, decryptReply(t, dan, string(m)))
		}
	}
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\nconfirm "+tok+"\n")
	s.drain(t)
	if s.member(t, "dan@else.test") != nil {
		t.Fatal("subscribed by an unsigned answer")
	}
	if _, ok := keys.subs["dan@else.test"]; ok {
		t.Fatal("key bound by an unsigned answer")
	}
}

// TestCommandSignedProtectedHeaders: the list's request address in the
// signed part's own header fields names the list as x-list-name does.
func TestCommandSignedProtectedHeaders(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	ann := homes["ann@subs.test"]
	mail := string(ann.PGPMIMESigned("From: ann@subs.test\nTo: team-request@lists.test\nSubject: x\n",
		[]byte("To: team-request@lists.test\nContent-Type: text/plain; protected-headers=\"v1\"\n\nremove bob@subs.test\n"), "ann@subs.test"))
	other := string(ann.PGPMIMESigned("From: ann@subs.test\nTo: team-request@lists.test\nSubject: x\n",
		[]byte("To: other-request@lists.test\nContent-Type: text/plain; protected-headers=\"v1\"\n\nremove cat@subs.test\n"), "ann@subs.test"))
	s.deliver(t, queue.SubRequest, "ann@subs.test", mail)
	s.deliver(t, queue.SubRequest, "ann@subs.test", other)
	s.drain(t)
	if s.member(t, "bob@subs.test") != nil {
		t.Fatal("bob not removed by a mail whose signed header names the list")
	}
	if s.member(t, "cat@subs.test") == nil {
		t.Fatal("cat removed by a mail signed for another list")
	}
}

// TestCommandKeyRevoke: an unsigned request is refused; gpg's own
// revocation certificate of the key on file revokes it; so does a request
// signed with the key.
func TestCommandKeyRevoke(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: x\n\nkey revoke\n")
	s.drain(t)
	if _, ok := keys.subs["bob@subs.test"]; !ok {
		t.Fatal("key revoked by an unsigned request")
	}
	// A revocation certificate of another key (ann's) does not revoke bob's.
	annFpr := fmt.Sprintf("%X", keys.subs["ann@subs.test"].PrimaryKey.Fingerprint)
	annRev := mustRead(t, homes["ann@subs.test"].Dir+"/openpgp-revocs.d/"+annFpr+".rev")
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: x\n\nkey revoke\n\n"+string(annRev))
	s.drain(t)
	if _, ok := keys.subs["bob@subs.test"]; !ok {
		t.Fatal("key revoked by another key's revocation certificate")
	}
	if r := decryptReply(t, homes["bob@subs.test"], lastMail(t, s, "bob@subs.test")); !strings.Contains(r, "refused: the revocation certificate is not made by the key on file") {
		t.Fatalf("reply:\n%s", r)
	}
	bobFpr := fmt.Sprintf("%X", keys.subs["bob@subs.test"].PrimaryKey.Fingerprint)
	rev := mustRead(t, homes["bob@subs.test"].Dir+"/openpgp-revocs.d/"+bobFpr+".rev")
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: x\n\nkey revoke\n\n"+string(rev))
	s.drain(t)
	if _, ok := keys.subs["bob@subs.test"]; ok {
		t.Fatalf("key not revoked by its revocation certificate; reply:\n%s", lastMail(t, s, "bob@subs.test"))
	}
	// Ann revokes hers with a signed request.
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "x", "x-list-name team\nkey revoke\n"))
	s.drain(t)
	if _, ok := keys.subs["ann@subs.test"]; ok {
		t.Fatal("ann's key not revoked by her signed request")
	}
}

// TestCommandClearSigned: an inline (clear-signed) OpenPGP command mail, as
// mutt and older clients send it, is read inside its signed block and its
// replay refused.
func TestCommandClearSigned(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	ann := homes["ann@subs.test"]
	signed := ann.Run([]byte("x-list-name team@lists.test\nremove bob@subs.test\n"), "--clearsign", "--local-user", "ann@subs.test")
	mail := "From: ann@subs.test\nTo: team-request@lists.test\nSubject: x\nContent-Type: text/plain\n\n" + string(signed)
	s.deliver(t, queue.SubRequest, "ann@subs.test", mail)
	s.drain(t)
	if s.member(t, "bob@subs.test") != nil {
		t.Fatalf("bob not removed; reply:\n%s", decryptReply(t, ann, lastMail(t, s, "ann@subs.test")))
	}
	s.Lists.Update(func(tx *lists.Tx) error {
		return tx.AddMember("team@lists.test", &lists.Member{Address: "bob@subs.test"})
	})
	s.deliver(t, queue.SubRequest, "ann@subs.test", mail)
	s.drain(t)
	if s.member(t, "bob@subs.test") == nil {
		t.Fatal("replayed clear-signed remove carried out")
	}
}

// TestCommandOwnerKeySet: an owner's signed "key set ADDRESS" replaces a
// subscriber's key; a member's is refused.
func TestCommandOwnerKeySet(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, keys := keySite(t)
	nh := gnupg.New(t)
	fpr := nh.GenKey("cat <cat@subs.test>", "cv25519")
	key := string(nh.ExportPublic("cat@subs.test"))
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(homes["bob@subs.test"], "bob@subs.test", "x", "x-list-name team\nkey set cat@subs.test\n\n"+key))
	s.drain(t)
	if _, ok := keys.subs["cat@subs.test"]; ok {
		t.Fatal("a member set another's key")
	}
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "x", "x-list-name team\nkey set cat@subs.test\n\n"+key))
	s.drain(t)
	if e, ok := keys.subs["cat@subs.test"]; !ok || fmt.Sprintf("%X", e.PrimaryKey.Fingerprint) != fpr {
		t.Fatalf("owner's key set not applied; reply:\n%s", decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test")))
	}
}

// TestCommandKeySign: a member signs the list key with gpg and sends it back
// with "key sign", signed with the member's key on file; key get then
// publishes the list key with that certification. A list key carrying no
// certification by the sender's own key is refused.
func TestCommandKeySign(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	listFpr := homes["list"].Fingerprint("team@lists.test")
	bob := homes["bob@subs.test"]
	bob.Run(nil, "--quick-sign-key", listFpr)
	signedList := string(bob.ExportPublic("team@lists.test"))

	// Ann sends the list key as Bob certified it: not her certification.
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "x", "x-list-name team\nkey sign\n\n"+signedList))
	s.drain(t)
	if reply := decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test")); !strings.Contains(reply, "carries no certification by your key") {
		t.Fatalf("ann's reply:\n%s", reply)
	}
	if len(keys.listCerts) != 0 {
		t.Fatal("a certification by someone else was recorded")
	}

	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(bob, "bob@subs.test", "x", "x-list-name team\nkey sign\n\n"+signedList))
	s.drain(t)
	if reply := decryptReply(t, bob, lastMail(t, s, "bob@subs.test")); !strings.Contains(reply, "your certification of the list key is recorded") {
		t.Fatalf("bob's reply:\n%s", reply)
	}

	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nTo: team-request@lists.test\nSubject: key\n\nkey get\n")
	s.drain(t)
	reply := lastMail(t, s, "dan@else.test")
	var attached []byte
	ent, err := rawmime.Parse([]byte(reply))
	if err != nil {
		t.Fatal(err)
	}
	rawmime.Walk(ent, 10, 100, func(_ []int, p *rawmime.Entity) error {
		if mt, _, _ := p.MediaType(); mt == "application/pgp-keys" {
			attached = p.Body
			if strings.EqualFold(strings.TrimSpace(p.Fields.Get("Content-Transfer-Encoding")), "base64") {
				attached, _ = base64.StdEncoding.DecodeString(strings.Join(strings.Fields(string(p.Body)), ""))
			}
		}
		return nil
	})
	if attached == nil {
		t.Fatalf("key get reply has no key:\n%s", reply)
	}
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(attached))
	if err != nil || len(el) != 1 {
		t.Fatalf("published key: %v", err)
	}
	bobKey := keys.subs["bob@subs.test"]
	found := false
	for name, id := range el[0].Identities {
		for _, vs := range id.OtherCertifications {
			if bytes.Equal(vs.Packet.IssuerFingerprint, bobKey.PrimaryKey.Fingerprint) &&
				bobKey.PrimaryKey.VerifyUserIdSignature(name, el[0].PrimaryKey, vs.Packet) == nil {
				found = true
			}
		}
	}
	if !found {
		t.Fatal("key get does not publish bob's certification of the list key")
	}
}
