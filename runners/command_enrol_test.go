package runners

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// The mailbox-reader attack on key enrolment: eve reads dan's mail (on the
// network path, or in a shared mailbox) but does not hold dan's key. She
// sends key set From dan with her own key, which carries dan's address,
// decrypts the challenge that lands in dan's mailbox with her key, and
// answers it signed with it. Under proof that binds her key; under owner it
// waits for an owner; under vouched it waits for an owner or a member.

// mailboxReader is eve's gpg home: a key with dan's address that dan never
// made, and the list's public key.
func mailboxReader(t *testing.T, homes map[string]*gnupg.Home) (*gnupg.Home, string) {
	t.Helper()
	eve := gnupg.New(t)
	fpr := eve.GenKey("dan <dan@else.test>", "cv25519")
	eve.Import(homes["list"].ExportPublic("team@lists.test"))
	return eve, fpr
}

// enrolByChallenge sends key set From dan with the key of h attached, takes
// the challenge out of dan's mailbox, opens it with h and answers it signed
// with h's key: what dan does with dan's key, and eve with hers.
func enrolByChallenge(t *testing.T, s *testSite, h *gnupg.Home) {
	t.Helper()
	enrolByChallengeAnswer(t, s, h, func(tok string) string {
		return string(h.PGPMIMESigned("From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n",
			[]byte("Content-Type: text/plain\n\nyes\n"), "dan@else.test"))
	})
}

// enrolByChallengeAnswer is enrolByChallenge with the answer to the
// challenge token tok written by answer.
func enrolByChallengeAnswer(t *testing.T, s *testSite, h *gnupg.Home, answer func(tok string) string) {
	t.Helper()
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nkey set\n\n"+string(h.ExportPublic("dan@else.test")))
	s.drain(t)
	var tok string
	box := s.mailbox(t, "dan@else.test")
	for _, m := range box {
		if strings.Contains(strings.ReplaceAll(string(m), "\n ", " "), "Subject: Confirm: register the OpenPGP key "+h.Fingerprint("dan@else.test")) { // the writer folds long subjects
			tok = tokenIn(t, decryptReply(t, h, string(m)))
		}
	}
	if tok == "" {
		t.Fatalf("no challenge encrypted to %s; dan's mailbox: %q", h.Fingerprint("dan@else.test"), box)
	}
	s.deliverConfirm(t, tok, "dan@else.test", answer(tok))
	s.drain(t)
}

// boundFpr is the fingerprint of the key on file for addr, or "".
func boundFpr(keys storeKeys, addr string) string {
	if e, ok := keys.subs[addr]; ok {
		return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint)
	}
	return ""
}

var keyRequestRE = regexp.MustCompile(`key approve ([a-z2-7]{10})`)

// keyRequestID reads the ID of the key request the owner ann was told of
// last (the notice is encrypted to ann's key).
func keyRequestID(t *testing.T, s *testSite, ann *gnupg.Home) string {
	t.Helper()
	var id string
	for _, m := range s.mailbox(t, "ann@subs.test") {
		if strings.Contains(string(m), "Subject: Key request ") {
			pt := decryptReply(t, ann, string(m))
			if !strings.Contains(pt, "dan@else.test asks that the OpenPGP key") {
				t.Fatalf("key request notice:\n%s", pt)
			}
			id = keyRequestRE.FindStringSubmatch(pt)[1]
		}
	}
	if id == "" {
		t.Fatal("the owner was not told of the key request")
	}
	return id
}

// checkAnnounced checks that the bind, change or revoke of addr's key is
// announced: to addr signed by the list and in clear (readable by addr even
// when the key just bound is not addr's), and to the owner ann; both name
// want (a fingerprint).
func checkAnnounced(t *testing.T, s *testSite, homes map[string]*gnupg.Home, reader *gnupg.Home, addr, want string, n int) {
	t.Helper()
	notices := keyNotices(t, s, addr)
	if len(notices) != n {
		t.Fatalf("%s got %d key announcements, want %d: %q", addr, len(notices), n, notices)
	}
	last := notices[n-1]
	if strings.Contains(last, "multipart/encrypted") {
		t.Fatalf("the announcement to %s is encrypted:\n%s", addr, last)
	}
	if text := string(verifySigned(t, reader, []byte(last))); !strings.Contains(text, want) || !strings.Contains(text, "If you did not ask for this") {
		t.Fatalf("announcement to %s lacks %s:\n%s", addr, want, text)
	}
	var owner string
	for _, m := range keyNotices(t, s, "ann@subs.test") {
		if strings.Contains(m, "Subject: Key changed: "+addr) {
			owner = decryptReply(t, homes["ann@subs.test"], m)
		}
	}
	if !strings.Contains(owner, want) {
		t.Fatalf("the owner was not told that %s's key is %s:\n%s", addr, want, owner)
	}
}

// TestEnrolProofMailboxReader: under proof (what auto means on a list
// that does not force encryption) the mailbox reader's key is bound, as
// before; but the bind is announced to dan and to the owner.
func TestEnrolProofMailboxReader(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, keys := keySite(t)
	eve, eveFpr := mailboxReader(t, homes)
	enrolByChallenge(t, s, eve)
	if got := boundFpr(keys, "dan@else.test"); got != eveFpr {
		t.Fatalf("under proof, the key of whoever answers is bound: got %q; reply:\n%s", got, lastMail(t, s, "dan@else.test"))
	}
	// dan's gpg reads the announcement and checks the list's signature.
	checkAnnounced(t, s, homes, homes["dan@else.test"], "dan@else.test", eveFpr, 1)
}

// TestEnrolAnswerSignedAndEncrypted: the answer to a key challenge as
// Thunderbird sends it by default, signed and encrypted to the list in one
// OpenPGP message (RFC 3156 6.2), binds the key: the signature, by a key not
// yet on file, is kept through decryption so that the challenge can check it
// with the offered key.
func TestEnrolAnswerSignedAndEncrypted(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, keys := keySite(t)
	dan := gnupg.New(t)
	fpr := dan.GenKey("dan <dan@else.test>", "cv25519")
	dan.Import(homes["list"].ExportPublic("team@lists.test"))
	enrolByChallengeAnswer(t, s, dan, func(tok string) string {
		return string(dan.PGPMIMEEncrypted("From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n",
			[]byte("Content-Type: text/plain\r\n\r\nyes\r\n"), true, "dan@else.test", "team@lists.test"))
	})
	if got := boundFpr(keys, "dan@else.test"); got != fpr {
		t.Fatalf("a signed and encrypted answer did not bind the key: got %q; reply:\n%s", got, lastMail(t, s, "dan@else.test"))
	}
}

// TestEnrolOwnerMailboxReader: on a list that distributes encrypted by
// force, key_enrolment auto means owner: the mailbox reader's proven key is
// not bound; the owner is asked, and a forged unsigned approval from the
// owner's address does nothing. The owner refuses it; dan's own key, proven
// the same way, is bound once the owner approves it with a signed mail.
func TestEnrolOwnerMailboxReader(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	s.setList(t, map[string]string{"pgp_distrib_encrypt": "force"})
	ann, dan := homes["ann@subs.test"], homes["dan@else.test"]
	eve, eveFpr := mailboxReader(t, homes)
	enrolByChallenge(t, s, eve)
	if got := boundFpr(keys, "dan@else.test"); got != "" {
		t.Fatalf("the mailbox reader's key %s was bound without the owner", got)
	}
	if r := lastMail(t, s, "dan@else.test"); !strings.Contains(r, "pending: (key set-confirmed ... from dan@else.test) the OpenPGP key "+eveFpr+" is proven, and waits for the list owners") {
		t.Fatalf("reply to the answer:\n%s", r)
	}
	id := keyRequestID(t, s, ann)

	// eve forges the owner's approval in clear, and answers with a token
	// she cannot have: refused.
	s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\nSubject: x\n\nx-list-name team\nkey approve "+id+"\n")
	s.drain(t)
	if got := boundFpr(keys, "dan@else.test"); got != "" {
		t.Fatalf("an unsigned approval bound %s", got)
	}
	if r := decryptReply(t, ann, lastMail(t, s, "ann@subs.test")); !strings.Contains(r, "> key approve "+id+"\n  refused:") {
		t.Fatalf("reply to the unsigned approval:\n%s", r)
	}

	// The owner checks the fingerprint with dan, and refuses.
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(ann, "ann@subs.test", "x", "x-list-name team\nkey refuse "+id+"\n"))
	s.drain(t)
	if r := decryptReply(t, ann, lastMail(t, s, "ann@subs.test")); !strings.Contains(r, "done: key request "+id+" ("+eveFpr+" for dan@else.test) is refused") {
		t.Fatalf("reply to the refusal:\n%s", r)
	}
	if got := boundFpr(keys, "dan@else.test"); got != "" {
		t.Fatalf("a refused key is bound: %s", got)
	}

	// dan's own key: proven, then approved.
	enrolByChallenge(t, s, dan)
	if got := boundFpr(keys, "dan@else.test"); got != "" {
		t.Fatalf("dan's key bound before the owner approved: %s", got)
	}
	id = keyRequestID(t, s, ann)
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(ann, "ann@subs.test", "x", "x-list-name team\nkey pending\nkey approve "+id+"\n"))
	s.drain(t)
	danFpr := dan.Fingerprint("dan@else.test")
	r := decryptReply(t, ann, lastMail(t, s, "ann@subs.test"))
	if !strings.Contains(r, "  "+id+"  dan@else.test  "+danFpr+"  (key set, owner;") || !strings.Contains(r, "done: "+danFpr+" is now bound to dan@else.test") {
		t.Fatalf("reply to key pending and key approve:\n%s", r)
	}
	if got := boundFpr(keys, "dan@else.test"); got != danFpr {
		t.Fatalf("after approval the key is %q, want dan's %s", got, danFpr)
	}
	checkAnnounced(t, s, homes, dan, "dan@else.test", danFpr, 1)
	// The same approval again: the request is gone.
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(ann, "ann@subs.test", "x", "x-list-name team\nkey approve "+id+"\n"))
	s.drain(t)
	if r := decryptReply(t, ann, lastMail(t, s, "ann@subs.test")); !strings.Contains(r, "refused: no key request "+id+" waits") {
		t.Fatalf("second approval:\n%s", r)
	}
}

// TestEnrolOwnerSubscribeWithKey: subscribing with a key under owner
// subscribes the address, and the key waits for the owner.
func TestEnrolOwnerSubscribeWithKey(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	s.setList(t, map[string]string{"key_enrolment": "owner"})
	eve, eveFpr := mailboxReader(t, homes)
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nsubscribe\n\n"+string(eve.ExportPublic("dan@else.test")))
	s.drain(t)
	var tok string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm: subscribe dan@else.test") {
			tok = tokenIn(t, decryptReply(t, eve, string(m)))
		}
	}
	s.deliverConfirm(t, tok, "dan@else.test", string(eve.PGPMIMESigned("From: dan@else.test\nSubject: Re: Confirm\n", []byte("Content-Type: text/plain\n\nyes\n"), "dan@else.test")))
	s.drain(t)
	if s.member(t, "dan@else.test") == nil {
		t.Fatal("dan not subscribed")
	}
	if got := boundFpr(keys, "dan@else.test"); got != "" {
		t.Fatalf("the key %s was bound with the subscription, without the owner", got)
	}
	if !mailWith(t, s, "dan@else.test", "is subscribed to team@lists.test; the OpenPGP key "+eveFpr+" is proven, and waits for the list owners") {
		t.Fatalf("no reply to the confirmation says that the key waits; dan's mailbox: %q", s.mailbox(t, "dan@else.test"))
	}
	keyRequestID(t, s, homes["ann@subs.test"])
}

// TestEnrolVouched: under vouched the mailbox reader's proven key is not
// bound; a member's key sign ADDRESS signed with their bound key binds the
// key they checked (attached, or waiting with the named fingerprint); an
// unsigned one, or one on a list that is not vouched, does not.
func TestEnrolVouched(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, keys := keySite(t)
	s.setList(t, map[string]string{"key_enrolment": "vouched"})
	s.Lists.Update(func(tx *lists.Tx) error {
		return tx.AddMember("team@lists.test", &lists.Member{Address: "dan@else.test"})
	})
	bob, dan := homes["bob@subs.test"], homes["dan@else.test"]
	eve, eveFpr := mailboxReader(t, homes)
	enrolByChallenge(t, s, eve)
	if got := boundFpr(keys, "dan@else.test"); got != "" {
		t.Fatalf("under vouched the mailbox reader's key %s was bound", got)
	}
	if r := lastMail(t, s, "dan@else.test"); !strings.Contains(r, "the OpenPGP key "+eveFpr+" is proven, and waits for the list owners, or a member's signed key sign dan@else.test "+eveFpr) {
		t.Fatalf("reply to the answer:\n%s", r)
	}

	// dan proves his own key; bob checked its fingerprint with dan and
	// vouches for it, first unsigned (refused), then signed.
	enrolByChallenge(t, s, dan)
	danFpr := dan.Fingerprint("dan@else.test")
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: x\n\nx-list-name team\nkey sign dan@else.test "+danFpr+"\n")
	s.drain(t)
	if got := boundFpr(keys, "dan@else.test"); got != "" {
		t.Fatalf("an unsigned vouch bound %s", got)
	}
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(bob, "bob@subs.test", "x", "x-list-name team\nkey sign dan@else.test "+danFpr+"\n"))
	s.drain(t)
	if got := boundFpr(keys, "dan@else.test"); got != danFpr {
		t.Fatalf("after bob's vouch the key is %q, want %s; reply:\n%s", got, danFpr, decryptReply(t, bob, lastMail(t, s, "bob@subs.test")))
	}
	checkAnnounced(t, s, homes, dan, "dan@else.test", danFpr, 1)

	// cat has no key: bob vouches with cat's key attached (vouch is the
	// same command).
	cat := gnupg.New(t)
	catFpr := cat.GenKey("cat <cat@subs.test>", "cv25519")
	cat.Import(homes["list"].ExportPublic("team@lists.test"))
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(bob, "bob@subs.test", "x", "x-list-name team\nvouch cat@subs.test\n\n"+string(cat.ExportPublic("cat@subs.test"))))
	s.drain(t)
	if got := boundFpr(keys, "cat@subs.test"); got != catFpr {
		t.Fatalf("after bob's vouch with the key attached cat's key is %q, want %s; reply:\n%s", got, catFpr, decryptReply(t, bob, lastMail(t, s, "bob@subs.test")))
	}
	checkAnnounced(t, s, homes, cat, "cat@subs.test", catFpr, 1)

	// On a list whose keys the owners approve, a member's vouch is refused.
	s.setList(t, map[string]string{"key_enrolment": "owner"})
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(bob, "bob@subs.test", "x", "x-list-name team\nkey sign dan@else.test "+eveFpr+"\n"))
	s.drain(t)
	if r := decryptReply(t, bob, lastMail(t, s, "bob@subs.test")); !strings.Contains(r, "refused: keys on this list are bound by the list owners") {
		t.Fatalf("vouch under owner:\n%s", r)
	}
}

// TestKeyChangesAnnounced: a key change signed with the old key, an
// owner's key set ADDRESS and a key revoke are each announced to the
// address (in clear, signed by the list) and to the owner.
func TestKeyChangesAnnounced(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, keys := keySite(t)
	bob, ann := homes["bob@subs.test"], homes["ann@subs.test"]
	nh := gnupg.New(t)
	newFpr := nh.GenKey("bob <bob@subs.test>", "cv25519")
	nh.Import(homes["list"].ExportPublic("team@lists.test"))
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(bob, "bob@subs.test", "x", "x-list-name team\nkey change\n\n"+string(nh.ExportPublic("bob@subs.test"))))
	s.drain(t)
	if got := boundFpr(keys, "bob@subs.test"); got != newFpr {
		t.Fatalf("key change not done: %q", got)
	}
	checkAnnounced(t, s, homes, bob, "bob@subs.test", newFpr, 1)

	// The owner sets another key for bob.
	oh := gnupg.New(t)
	ownerFpr := oh.GenKey("bob <bob@subs.test>", "cv25519")
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(ann, "ann@subs.test", "x", "x-list-name team\nkey set bob@subs.test\n\n"+string(oh.ExportPublic("bob@subs.test"))))
	s.drain(t)
	if got := boundFpr(keys, "bob@subs.test"); got != ownerFpr {
		t.Fatalf("owner's key set not done: %q", got)
	}
	checkAnnounced(t, s, homes, bob, "bob@subs.test", ownerFpr, 2)

	// bob revokes it, signed with it.
	oh.Import(homes["list"].ExportPublic("team@lists.test"))
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(oh, "bob@subs.test", "x", "x-list-name team\nkey revoke\n"))
	s.drain(t)
	if got := boundFpr(keys, "bob@subs.test"); got != "" {
		t.Fatalf("key revoke not done: %q", got)
	}
	checkAnnounced(t, s, homes, bob, "bob@subs.test", ownerFpr, 3)
	if n := len(keyNotices(t, s, "ann@subs.test")); n != 3 {
		t.Fatalf("the owner got %d announcements, want 3", n)
	}
}

// TestUnsubscribeForgedAndSigned: with the default unsubscribe.confirm a
// forged unsubscribe (unsigned, From bob; by mail to LIST-leave or to
// LIST-request) removes no one and sends bob a confirmation request; bob's
// unsubscribe signed with his bound key removes him at once.
func TestUnsubscribeForgedAndSigned(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	s.deliver(t, queue.SubLeave, "bob@subs.test", "From: bob@subs.test\nSubject: bye\n\n")
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: bye\n\nunsubscribe\n")
	s.drain(t)
	if s.member(t, "bob@subs.test") == nil {
		t.Fatal("a forged unsubscribe removed bob")
	}
	confirms := 0
	for _, m := range s.mailbox(t, "bob@subs.test") {
		if strings.Contains(decryptReply(t, homes["bob@subs.test"], string(m)), "asked to unsubscribe bob@subs.test from team@lists.test") {
			confirms++
		}
	}
	if confirms != 2 {
		t.Fatalf("bob got %d confirmation requests, want 2", confirms)
	}
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(homes["bob@subs.test"], "bob@subs.test", "x", "x-list-name team\nunsubscribe\n"))
	s.drain(t)
	if s.member(t, "bob@subs.test") != nil {
		t.Fatalf("bob's signed unsubscribe did not remove him; reply:\n%s", decryptReply(t, homes["bob@subs.test"], lastMail(t, s, "bob@subs.test")))
	}
	if r := decryptReply(t, homes["bob@subs.test"], lastMail(t, s, "bob@subs.test")); !strings.Contains(r, "done: bob@subs.test is unsubscribed") {
		t.Fatalf("reply to the signed unsubscribe:\n%s", r)
	}
}

// TestOwnerCommandsNeverSMTP: a site scenario that lets owners and
// moderators act by unsigned mail does not: an unsigned owner command from
// the owner's address (which anyone can forge) is refused.
func TestOwnerCommandsNeverSMTP(t *testing.T) {
	s := newTestSite(t)
	dir := t.TempDir()
	for name, text := range map[string]string{
		"admin.lax":    "title owners, signed or not\nis_owner([listname],[sender]) smtp,md5,pgp,smime -> do_it\ntrue() smtp,md5,pgp,smime -> reject(reason='admin_signed')\n",
		"moderate.lax": "title owners, signed or not\nis_owner([listname],[sender]) smtp,md5,pgp,smime -> do_it\ntrue() smtp,md5,pgp,smime -> reject(reason='moderate_signed')\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	s.Config.ScenarioDir = dir
	s.setList(t, map[string]string{"admin": "admin.lax", "moderate": "moderate.lax"})
	s.Lists.Update(func(tx *lists.Tx) error {
		return tx.PutHeld(&lists.Held{ID: "h1", List: "team@lists.test", File: "held-h1", Reason: "test"})
	})
	s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\nSubject: x\n\nadd dan@else.test\nremove bob@subs.test\nmembers\ndiscard h1\n")
	s.drain(t)
	r := oneReply(t, s, "ann@subs.test")
	if n := strings.Count(r, "refused: owner and moderator commands are never accepted from unsigned mail"); n != 4 {
		t.Fatalf("%d of 4 unsigned owner commands refused:\n%s", n, r)
	}
	if s.member(t, "dan@else.test") != nil || s.member(t, "bob@subs.test") == nil {
		t.Fatal("an unsigned owner command changed the roster")
	}
	s.Lists.View(func(tx *lists.Tx) error {
		if _, err := tx.Held("h1"); err != nil {
			t.Errorf("the held post was discarded by an unsigned command: %v", err)
		}
		return nil
	})
}

// TestEnrolStrictestListApplies: a key is bound for the whole site, so a
// key proven through a proof list (team) for an address that is on an owner
// list (secret) waits for an owner; once approved, the owner of secret is
// told too.
func TestEnrolStrictestListApplies(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList("secret@lists.test", time.Now())
		if err != nil {
			return err
		}
		if err := l.Settings.Set("key_enrolment", "owner"); err != nil {
			return err
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		if err := tx.AddMember(l.Address, &lists.Member{Address: "dan@else.test"}); err != nil {
			return err
		}
		return tx.AddMember(l.Address, &lists.Member{Address: "sue@subs.test", Roles: []lists.Role{lists.RoleOwner}})
	})
	if err != nil {
		t.Fatal(err)
	}
	eve, _ := mailboxReader(t, homes)
	enrolByChallenge(t, s, eve)
	if got := boundFpr(keys, "dan@else.test"); got != "" {
		t.Fatalf("a key proven through a proof list was bound for a member of an owner list: %s", got)
	}
	dan := homes["dan@else.test"]
	enrolByChallenge(t, s, dan)
	id := keyRequestID(t, s, homes["ann@subs.test"])
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "x", "x-list-name team\nkey approve "+id+"\n"))
	s.drain(t)
	danFpr := dan.Fingerprint("dan@else.test")
	if got := boundFpr(keys, "dan@else.test"); got != danFpr {
		t.Fatalf("after approval the key is %q, want %s", got, danFpr)
	}
	if !mailWith(t, s, "sue@subs.test", "Subject: Key changed: dan@else.test on team@lists.test") {
		t.Fatalf("the owner of the other list was not told; sue's mailbox: %q", s.mailbox(t, "sue@subs.test"))
	}
}
