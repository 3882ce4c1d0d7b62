package runners

// Replay attacks, end to end: a signed mail made with gpg goes through the
// runners once and does what it says; then an attacker who captured it sends
// it again, as it was, re-encoded (a subpacket added to the unhashed area of
// the signature, which needs no key; for a post also a new Subject and
// Message-ID), or in another context (the post to LIST-request, a command
// mail as a post to another list of the site). Every replay must be refused:
// the site's replay store counts a signature once, by what was signed.
//
//   attacker --deliver--> in --> incoming (verify, signature identity)
//                                 |--> rules (duplicate-signature) --> pipeline --> out
//                                 '--> command (replay store, x-list-name) --> replies

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
	"cloister/replay"
)

// attackSite is keySite (list key; ann owner and bob member with keys on
// file) plus the list other@lists.test (owner ann, members bob and dan, posts
// only signed with OpenPGP), with unsubscribe.confirm on team so that a
// member's signed unsubscribe acts at once and an unsigned one does not.
func attackSite(t *testing.T) (*testSite, map[string]*gnupg.Home, storeKeys) {
	t.Helper()
	s, homes, keys := keySite(t)
	s.setList(t, map[string]string{"unsubscribe": "unsubscribe.confirm"})
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList("other@lists.test", time.Now())
		if err != nil {
			return err
		}
		if err := l.Settings.Set("send", "send.private_pgp"); err != nil {
			return err
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for _, m := range []*lists.Member{
			{Address: "ann@subs.test", Roles: []lists.Role{lists.RoleOwner, lists.RoleMember}},
			{Address: "bob@subs.test"},
			{Address: "dan@else.test"},
		} {
			if err := tx.AddMember(l.Address, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, homes, keys
}

// dest is where a mail is delivered: a list and a subaddress.
type dest struct{ list, sub string }

var (
	teamPost    = dest{"team@lists.test", queue.SubPost}
	teamRequest = dest{"team@lists.test", queue.SubRequest}
	otherPost   = dest{"other@lists.test", queue.SubPost}
)

// deliverTo queues a message for any list of the site, as cmd/deliver does.
func (s *testSite) deliverTo(t *testing.T, d dest, sender, msg string) {
	t.Helper()
	m := &queue.Meta{List: d.list, Subaddress: d.sub, Sender: sender, Recipient: d.list, Received: time.Now().UTC()}
	if _, err := s.Queue(queue.In).Enqueue(m, strings.NewReader(msg), 0); err != nil {
		t.Fatal(err)
	}
}

// countMail counts the mails in rcpt's mailbox that contain marker.
func countMail(t *testing.T, s *testSite, rcpt, marker string) int {
	t.Helper()
	n := 0
	for _, m := range s.mailbox(t, rcpt) {
		if bytes.Contains(m, []byte(marker)) {
			n++
		}
	}
	return n
}

var messageIDRE = regexp.MustCompile(`(?m)^Message-ID: .*$`)

// newHeaders gives a post a new Subject and Message-ID (outer, unsigned fields).
func newHeaders(msg string) string {
	msg = strings.Replace(msg, "Subject: ", "Subject: Re: ", 1)
	return messageIDRE.ReplaceAllString(msg, fmt.Sprintf("Message-ID: <%d.replay@evil.test>", time.Now().UnixNano()))
}

// replayColumn is what was signed and captured: a post or a command mail.
type replayColumn struct {
	name   string
	sender string
	first  dest
	// mail signs the mail with the sender's gpg.
	mail func(h *gnupg.Home) string
	// effect counts what the mail did so far: copies distributed, members
	// removed, keys revoked.
	effect func(t *testing.T, s *testSite, keys storeKeys) int
	// reset undoes the effect of the first mail (re-adds a member, puts a
	// key back), so that a replay doing it again would show.
	reset func(t *testing.T, s *testSite, keys storeKeys, saved map[string]*openpgp.Entity)
}

// replayRow is the attack: how the captured mail is sent again.
type replayRow struct {
	name   string
	attack func(t *testing.T, c replayColumn, msg string, attacker *gnupg.Home) (string, dest)
}

func readd(t *testing.T, s *testSite, addr string) {
	t.Helper()
	if err := s.Lists.Update(func(tx *lists.Tx) error {
		if m, _ := tx.Member("team@lists.test", addr); m != nil {
			return nil
		}
		return tx.AddMember("team@lists.test", &lists.Member{Address: addr})
	}); err != nil {
		t.Fatal(err)
	}
}

// lastText returns the text of the last mail to rcpt, decrypted with h when
// it is encrypted.
func lastText(t *testing.T, s *testSite, h *gnupg.Home, rcpt string) string {
	t.Helper()
	m := lastMail(t, s, rcpt)
	if strings.Contains(m, "multipart/encrypted") {
		return decryptReply(t, h, m)
	}
	return m
}

// otherCopies counts copies distributed by other@lists.test (dan is only there).
func otherCopies(t *testing.T, s *testSite) int { return len(s.mailbox(t, "dan@else.test")) }

var replayColumns = []replayColumn{
	{
		name: "post", sender: "ann@subs.test", first: teamPost,
		// An owner's signed post whose first line reads as a command, with
		// the posting address in its protected To: as a command mail it
		// would remove cat with ann's authority.
		mail: func(h *gnupg.Home) string {
			return string(h.PGPMIMESigned("From: ann@subs.test\nTo: team@lists.test\nSubject: Minutes\nMessage-ID: <m1@subs.test>\n",
				[]byte("To: team@lists.test\nContent-Type: text/plain; protected-headers=\"v1\"\n\n"+
					"remove cat@subs.test\n\nMinutes: cat asked to leave the list.\n"), "ann@subs.test"))
		},
		effect: func(t *testing.T, s *testSite, _ storeKeys) int {
			// cat has no key: a copy of an encrypted post reaches only bob.
			n := countMail(t, s, "cat@subs.test", "Minutes: cat asked") + len(s.mailbox(t, "bob@subs.test")) + otherCopies(t, s)
			if s.member(t, "cat@subs.test") == nil {
				n++
			}
			return n
		},
		reset: func(*testing.T, *testSite, storeKeys, map[string]*openpgp.Entity) {},
	},
	{
		name: "owner command", sender: "ann@subs.test", first: teamRequest,
		mail: func(h *gnupg.Home) string {
			return signedCommands(h, "ann@subs.test", "cmds", "x-list-name team@lists.test\nremove cat@subs.test\n")
		},
		effect: func(t *testing.T, s *testSite, _ storeKeys) int {
			n := otherCopies(t, s)
			if s.member(t, "cat@subs.test") == nil {
				n++
			}
			return n
		},
		reset: func(t *testing.T, s *testSite, _ storeKeys, _ map[string]*openpgp.Entity) {
			readd(t, s, "cat@subs.test")
		},
	},
	{
		name: "member command", sender: "bob@subs.test", first: teamRequest,
		mail: func(h *gnupg.Home) string {
			return signedCommands(h, "bob@subs.test", "cmds", "x-list-name team@lists.test\nunsubscribe\n")
		},
		effect: func(t *testing.T, s *testSite, _ storeKeys) int {
			n := otherCopies(t, s)
			if s.member(t, "bob@subs.test") == nil {
				n++
			}
			return n
		},
		reset: func(t *testing.T, s *testSite, _ storeKeys, _ map[string]*openpgp.Entity) {
			readd(t, s, "bob@subs.test")
		},
	},
	{
		name: "key command", sender: "bob@subs.test", first: teamRequest,
		mail: func(h *gnupg.Home) string {
			return signedCommands(h, "bob@subs.test", "cmds", "x-list-name team@lists.test\nkey revoke\n")
		},
		effect: func(t *testing.T, s *testSite, keys storeKeys) int {
			n := otherCopies(t, s)
			if _, ok := keys.subs["bob@subs.test"]; !ok {
				n++
			}
			return n
		},
		reset: func(_ *testing.T, _ *testSite, keys storeKeys, saved map[string]*openpgp.Entity) {
			keys.subs["bob@subs.test"] = saved["bob@subs.test"]
		},
	},
}

var replayRows = []replayRow{
	{"replayed", func(_ *testing.T, c replayColumn, msg string, _ *gnupg.Home) (string, dest) { return msg, c.first }},
	{"re-encoded replay", func(t *testing.T, c replayColumn, msg string, _ *gnupg.Home) (string, dest) {
		msg = gnupg.ReencodeSignature(t, msg)
		if c.first == teamPost {
			msg = newHeaders(msg)
		}
		return msg, c.first
	}},
	// The signed mail encrypted anew to the list's public key by the
	// attacker (RFC 3156 6.1: the signature travels inside).
	{"re-encrypted replay", func(t *testing.T, c replayColumn, msg string, attacker *gnupg.Home) (string, dest) {
		i := strings.Index(msg, "MIME-Version: ")
		return string(attacker.PGPMIMEEncrypted(msg[:i], []byte(msg[i:]), false, "", "team@lists.test")), c.first
	}},
	// A post sent to LIST-request; a command mail sent as a post to the
	// other list, its outer To rewritten to name that list.
	{"post-as-command", func(_ *testing.T, c replayColumn, msg string, _ *gnupg.Home) (string, dest) {
		if c.first == teamPost {
			return msg, teamRequest
		}
		return strings.Replace(msg, "To: team-request@lists.test\n", "To: other@lists.test\n", 1), otherPost
	}},
}

// TestReplayAttacks is the table of replays: for every kind of signed mail
// (columns) and every way of sending it again (rows), the first mail does
// what it says and the replay does nothing.
func TestReplayAttacks(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	want := map[string]map[string]string{
		"replayed":            {"post": "refused", "owner command": "refused", "member command": "refused", "key command": "refused"},
		"re-encoded replay":   {"post": "refused", "owner command": "refused", "member command": "refused", "key command": "refused"},
		"re-encrypted replay": {"post": "refused", "owner command": "refused", "member command": "refused", "key command": "refused"},
		"post-as-command":     {"post": "refused", "owner command": "refused", "member command": "refused", "key command": "refused"},
	}
	for _, row := range replayRows {
		for _, col := range replayColumns {
			t.Run(row.name+"/"+col.name, func(t *testing.T) {
				s, homes, keys := attackSite(t)
				saved := map[string]*openpgp.Entity{}
				for a, e := range keys.subs {
					saved[a] = e
				}
				msg := col.mail(homes[col.sender])
				s.deliverTo(t, col.first, col.sender, msg)
				s.drain(t)
				if col.effect(t, s, keys) == 0 {
					t.Fatalf("the first %s did not act (effect %d); bad: %q", col.name, col.effect(t, s, keys), s.badReasons(t))
				}
				col.reset(t, s, keys, saved)
				before := col.effect(t, s, keys)
				replayed, to := row.attack(t, col, msg, homes["dan@else.test"])
				s.deliverTo(t, to, col.sender, replayed)
				s.drain(t)
				got := "refused"
				if col.effect(t, s, keys) != before {
					got = "carried out"
				}
				if got != want[row.name][col.name] {
					t.Fatalf("%s of a %s: %s, want %s; bad: %q", row.name, col.name, got, want[row.name][col.name], s.badReasons(t))
				}
				// Refused as a replay, not for another reason (a signature
				// that did not verify, say): the sender is told so.
				if r := lastText(t, s, homes[col.sender], col.sender); !strings.Contains(r, "received before") {
					t.Fatalf("the answer to the %s does not say it is a replay:\n%s", row.name, r)
				}
			})
		}
	}
}

// TestSignedPostToRequestDoesNotAct: a signed mail that names the posting
// address in its protected To (a post) and reaches LIST-request before the
// list ever saw it is not a command mail: its lines do not run with the
// signer's authority (here: an owner's remove).
func TestSignedPostToRequestDoesNotAct(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := attackSite(t)
	msg := replayColumns[0].mail(homes["ann@subs.test"])
	s.deliverTo(t, teamRequest, "ann@subs.test", msg)
	s.drain(t)
	if s.member(t, "cat@subs.test") == nil {
		t.Fatal("a signed post sent to team-request removed cat with the owner's authority")
	}
	if r := decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test")); !strings.Contains(r, "Your signature was not counted") {
		t.Fatalf("reply:\n%s", r)
	}
}

// TestDuplicateSignatureHold: with duplicate_signature_action hold, a
// replayed signed post is held for the moderators, not distributed.
func TestDuplicateSignatureHold(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, _ := attackSite(t)
	s.setList(t, map[string]string{"duplicate_signature_action": "hold"})
	msg := replayColumns[0].mail(homes["ann@subs.test"])
	s.deliverTo(t, teamPost, "ann@subs.test", msg)
	s.drain(t)
	s.deliverTo(t, teamPost, "ann@subs.test", newHeaders(gnupg.ReencodeSignature(t, msg)))
	s.drain(t)
	if n := countMail(t, s, "cat@subs.test", "Minutes: cat asked"); n != 1 {
		t.Fatalf("cat got %d copies, want 1", n)
	}
	var held []*lists.Held
	s.Lists.View(func(tx *lists.Tx) error { held, _ = tx.HeldFor("team@lists.test"); return nil })
	if len(held) != 1 {
		t.Fatalf("%d held, want the replay", len(held))
	}
}

// TestSignedPostRetryIsNotReplay: the rules runner crashed after it counted
// a signed post's signature and before it finished the entry; the same
// entry handled again is the post's first handling, not a replay, and the
// post is distributed once.
func TestSignedPostRetryIsNotReplay(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := attackSite(t)
	s.setList(t, map[string]string{"pgp_post_encrypt": "no"})
	s.deliverTo(t, teamPost, "ann@subs.test", replayColumns[0].mail(homes["ann@subs.test"]))
	if err := (&Loop{Site: s.Site, Runner: Incoming{}, Slice: queue.All, Once: true}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	names, err := s.Queue(queue.Rules).Pending(queue.All)
	if err != nil || len(names) != 1 {
		t.Fatalf("rules queue: %v %v", names, err)
	}
	e, err := s.Queue(queue.Rules).Peek(names[0])
	if err != nil {
		t.Fatal(err)
	}
	if e.Meta.Verdict != "good" || e.Meta.SignatureID == "" {
		t.Fatalf("verdict %s, identity %q", e.Meta.Verdict, e.Meta.SignatureID)
	}
	// What the crashed attempt left behind.
	if _, err := replay.ForSite(s.Config.StateDir).Check(e.Meta.SignatureID, e.Meta.ID, "post to team@lists.test", e.Meta.SignatureTime, time.Now()); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if n := countMail(t, s, "cat@subs.test", "Minutes: cat asked"); n != 1 {
		t.Fatalf("cat got %d copies after the retry, want 1; bad: %q", n, s.badReasons(t))
	}
	for _, m := range s.mailbox(t, "ann@subs.test") {
		if bytes.Contains(m, []byte("received before")) {
			t.Fatalf("the retried post was taken for a replay:\n%s", m)
		}
	}
}
