package runners

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/moderation"
	"cloister/queue"
)

// Posts through the runners (incoming, rules, pipeline, outgoing to the SMTP
// sink) meeting the posting chain and the send scenario of team@lists.test:
// owner ann, members bob and cat; default scenario send.private.

func setSetting(t *testing.T, s *testSite, name, value string) {
	t.Helper()
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		if err := l.Settings.Set(name, value); err != nil {
			return err
		}
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func addMember(t *testing.T, s *testSite, addr string, roles ...lists.Role) {
	t.Helper()
	err := s.Lists.Update(func(tx *lists.Tx) error {
		return tx.AddMember("team@lists.test", &lists.Member{Address: addr, Roles: roles})
	})
	if err != nil {
		t.Fatal(err)
	}
}

func heldPosts(t *testing.T, s *testSite) []*lists.Held {
	t.Helper()
	var held []*lists.Held
	err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		held, err = tx.HeldFor("team@lists.test")
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return held
}

var confirmRE = regexp.MustCompile(`(?m)^Reply-To: team-confirm\+([a-z2-7]+)@lists\.test$`)

// replyToken returns the token of a notice's Reply-To.
func replyToken(t *testing.T, notice []byte) string {
	t.Helper()
	m := confirmRE.FindSubmatch(notice)
	if m == nil {
		t.Fatalf("no LIST-confirm+TOKEN Reply-To in\n%s", notice)
	}
	return string(m[1])
}

// oneMessage returns the only message in rcpt's mailbox.
func oneMessage(t *testing.T, s *testSite, rcpt string) []byte {
	t.Helper()
	box := s.mailbox(t, rcpt)
	if len(box) != 1 {
		t.Fatalf("%s received %d messages, want 1: %q", rcpt, len(box), box)
	}
	return box[0]
}

func TestRulesMemberPostAccepted(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	if got := oneMessage(t, s, "cat@subs.test"); !bytes.Contains(got, []byte("The minutes are attached.")) {
		t.Fatalf("cat got %q", got)
	}
	if h := heldPosts(t, s); len(h) != 0 {
		t.Fatalf("held: %+v", h)
	}
}

func TestRulesNonMemberRejectedWithNotice(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "eve@else.test", "From: eve@else.test\nTo: team@lists.test\nSubject: Offer\nMessage-ID: <o1@else.test>\n\nbuy\n")
	s.drain(t)
	n := oneMessage(t, s, "eve@else.test")
	for _, want := range []string{
		"Subject: Your post to team@lists.test was rejected",
		"only members of the list may post to it",
		"In-Reply-To: <o1@else.test>",
		"Auto-Submitted: auto-replied",
	} {
		if !bytes.Contains(n, []byte(want)) {
			t.Errorf("rejection notice lacks %q:\n%s", want, n)
		}
	}
	for _, r := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
		if box := s.mailbox(t, r); len(box) != 0 {
			t.Errorf("%s received %d messages", r, len(box))
		}
	}
	if h := heldPosts(t, s); len(h) != 0 {
		t.Fatalf("held: %+v", h)
	}
}

func TestRulesRejectQuietAndDiscardSendNothing(t *testing.T) {
	for _, rule := range []string{
		"true() smtp,md5,pgp,smime -> reject(reason='send_closed'),quiet",
		"true() smtp,md5,pgp,smime -> discard",
	} {
		t.Run(rule, func(t *testing.T) {
			s := newTestSite(t)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, "send.silent"), []byte(rule+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			s.Config.ScenarioDir = dir
			setSetting(t, s, "send", "send.silent")
			s.deliver(t, queue.SubPost, "bob@subs.test", post)
			s.drain(t)
			for _, r := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
				if box := s.mailbox(t, r); len(box) != 0 {
					t.Errorf("%s received %q", r, box)
				}
			}
			for _, q := range []string{queue.Out, queue.Held, queue.Bad, queue.Rules} {
				if f := s.files(t, q); len(f) != 0 {
					t.Errorf("queue %s left %v", q, f)
				}
			}
		})
	}
}

func TestRulesLoopDiscarded(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: again\nX-Loop: team@lists.test\n\nbody\n")
	s.drain(t)
	for _, r := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
		if box := s.mailbox(t, r); len(box) != 0 {
			t.Errorf("%s received %q", r, box)
		}
	}
	if !strings.Contains(s.logs.String(), "decision=discard") || !strings.Contains(s.logs.String(), "rule loop") {
		t.Fatalf("log does not record the loop discard:\n%s", s.logs)
	}
}

func TestRulesBannedAddressRejected(t *testing.T) {
	s := newTestSite(t)
	setSetting(t, s, "banned_addresses", `.*@subs\.test`)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	n := oneMessage(t, s, "bob@subs.test")
	if !bytes.Contains(n, []byte("bob@subs.test is banned from the list")) {
		t.Fatalf("notice = %s", n)
	}
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 0 {
		t.Fatalf("banned post distributed")
	}
}

// TestRulesChainHoldApprovedByReply: a member's post without a subject is held
// by the no-subject rule (recorded in the held record and the entry's
// metadata), the owner's notice carries the post and a Reply-To token, and
// returning that token (as the command runner does for LIST-confirm+TOKEN)
// approves it; the token works once.
func TestRulesChainHoldApprovedByReply(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\n\nno subject here\n")
	s.drain(t)
	held := heldPosts(t, s)
	if len(held) != 1 || !slices.Equal(held[0].Rules, []string{"no-subject"}) || held[0].Reason != "the post has no subject" {
		t.Fatalf("held = %+v", held)
	}
	if !strings.Contains(string(held[0].Meta), `"rule_misses":["loop","banned-address"`) {
		t.Errorf("held metadata lacks the rule misses: %s", held[0].Meta)
	}
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 0 {
		t.Fatalf("held post was distributed")
	}
	n := oneMessage(t, s, "ann@subs.test")
	for _, want := range []string{"held for moderation", "Rules:    no-subject", "Content-Type: message/rfc822", "no subject here"} {
		if !bytes.Contains(n, []byte(want)) {
			t.Errorf("notice lacks %q:\n%s", want, n)
		}
	}
	tok := replyToken(t, n)
	if err := moderation.ConfirmPost(s.Site, tok); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if got := oneMessage(t, s, "cat@subs.test"); !bytes.Contains(got, []byte("no subject here")) {
		t.Fatalf("approved post: %s", got)
	}
	if err := moderation.ConfirmPost(s.Site, tok); !errors.Is(err, lists.ErrTokenUsed) {
		t.Fatalf("second use: %v, want ErrTokenUsed", err)
	}
	if h := heldPosts(t, s); len(h) != 0 {
		t.Fatalf("held left: %+v", h)
	}
	for _, q := range []string{queue.Held, queue.Bad} {
		if f := s.files(t, q); len(f) != 0 {
			t.Errorf("queue %s left %v", q, f)
		}
	}
}

// TestRulesEditorkeyHeldAndApproved: send.editorkey holds a member's post for
// the moderators (not the owners), and moderation.Approve sends it on.
func TestRulesEditorkeyHeldAndApproved(t *testing.T) {
	s := newTestSite(t)
	addMember(t, s, "mod@subs.test", lists.RoleModerator)
	setSetting(t, s, "send", "send.editorkey")
	s.deliver(t, queue.SubPost, "cat@subs.test", "From: cat@subs.test\nTo: team@lists.test\nSubject: Plan\n\nthe plan\n")
	s.drain(t)
	if box := s.mailbox(t, "ann@subs.test"); len(box) != 0 {
		t.Fatalf("the owner was notified though the list has a moderator")
	}
	n := oneMessage(t, s, "mod@subs.test")
	if !bytes.Contains(n, []byte("scenario send.editorkey")) {
		t.Fatalf("notice: %s", n)
	}
	held := heldPosts(t, s)
	if len(held) != 1 || held[0].Subject != "Plan" {
		t.Fatalf("held = %+v", held)
	}
	if err := moderation.Approve(s.Site, held[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if got := oneMessage(t, s, "bob@subs.test"); !bytes.Contains(got, []byte("the plan")) {
		t.Fatalf("approved post: %s", got)
	}
}

// TestRulesAdministriviaHeldForOwners: a post that looks like a command goes
// to the owners, not the moderators.
func TestRulesAdministriviaHeldForOwners(t *testing.T) {
	s := newTestSite(t)
	addMember(t, s, "mod@subs.test", lists.RoleModerator)
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: unsubscribe\n\nunsubscribe\n")
	s.drain(t)
	if box := s.mailbox(t, "mod@subs.test"); len(box) != 0 {
		t.Fatalf("moderator notified of administrivia")
	}
	if n := oneMessage(t, s, "ann@subs.test"); !bytes.Contains(n, []byte("held for moderation by the owners")) {
		t.Fatalf("owner notice: %s", n)
	}
	if h := heldPosts(t, s); len(h) != 1 || !slices.Contains(h[0].Rules, "administrivia") {
		t.Fatalf("held = %+v", h)
	}
}

// TestRulesModeratorRejectsByToken: the notice's reject address rejects the
// post, and its sender is told.
func TestRulesModeratorRejectsByToken(t *testing.T) {
	s := newTestSite(t)
	setSetting(t, s, "send", "send.editorkey")
	s.deliver(t, queue.SubPost, "eve@else.test", "From: eve@else.test\nTo: team@lists.test\nSubject: Offer\n\nbuy\n")
	s.drain(t)
	n := oneMessage(t, s, "ann@subs.test")
	m := regexp.MustCompile(`team-confirm\+([a-z2-7]+)@lists\.test\n(?:Each|An)`).FindSubmatch(n)
	if m == nil {
		t.Fatalf("no reject address in %s", n)
	}
	if err := moderation.ConfirmPost(s.Site, string(m[1])); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if got := oneMessage(t, s, "eve@else.test"); !bytes.Contains(got, []byte("rejected by the moderators")) {
		t.Fatalf("sender notice: %s", got)
	}
	if box := s.mailbox(t, "bob@subs.test"); len(box) != 0 {
		t.Fatalf("rejected post distributed")
	}
}

func writeScenario(t *testing.T, dir, name, src string) {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, name), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRulesCryptoSettings: the {pgp,smime}_post_{sign,encrypt} settings act
// on the incoming runner's verdict (entries enqueued in the rules queue as it
// leaves them).
func TestRulesCryptoSettings(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	for _, tc := range []struct {
		name       string
		settings   map[string]string
		meta       queue.Meta
		distribute bool
		notice     string // in the sender's notice; "" for none
		held       bool
	}{
		{"sign yes, signed", map[string]string{"pgp_post_sign": "yes"},
			queue.Meta{Verdict: "good", Auth: "pgp", Encryption: "none", SignerAddresses: []string{"bob@subs.test"}}, true, "", false},
		{"sign yes, unsigned: held", map[string]string{"pgp_post_sign": "yes"},
			queue.Meta{Verdict: "none", Auth: "smtp", Encryption: "none"}, false, "", true},
		{"sign force, bad signature: rejected", map[string]string{"pgp_post_sign": "force"},
			queue.Meta{Verdict: "bad", Auth: "smtp", Encryption: "none"}, false, "could not be verified (bad)", false},
		{"encrypt force, clear: rejected", map[string]string{"pgp_post_encrypt": "force"},
			queue.Meta{Verdict: "none", Auth: "smtp", Encryption: "none"}, false, "only posts encrypted to its OpenPGP key", false},
		{"encrypt force, encrypted", map[string]string{"pgp_post_encrypt": "force"},
			queue.Meta{Verdict: "none", Auth: "smtp", Encryption: "pgp-mime"}, true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSite(t)
			for k, v := range tc.settings {
				setSetting(t, s, k, v)
			}
			m := tc.meta
			m.List, m.Subaddress, m.Sender, m.From = "team@lists.test", queue.SubPost, "bob@subs.test", "bob@subs.test"
			if _, err := s.Queue(queue.Rules).Enqueue(&m, strings.NewReader(post), 0); err != nil {
				t.Fatal(err)
			}
			s.drain(t)
			if accepted := strings.Contains(s.logs.String(), "runner=rules") && strings.Contains(s.logs.String(), "decision=accept"); accepted != tc.distribute {
				t.Fatalf("accepted = %v, want %v", accepted, tc.distribute)
			}
			// How a post that arrived encrypted leaves is the outgoing
			// runner's business; a clear post reaches cat.
			if m.Encryption == "none" {
				if got := len(s.mailbox(t, "cat@subs.test")); got != map[bool]int{true: 1}[tc.distribute] {
					t.Fatalf("cat received %d messages", got)
				}
			}
			box := s.mailbox(t, "bob@subs.test")
			if tc.notice != "" {
				if tc.distribute || len(box) != 1 || !bytes.Contains(box[0], []byte(tc.notice)) {
					t.Fatalf("bob's mail: %q", box)
				}
			} else if !tc.distribute && len(box) != 0 {
				t.Fatalf("bob received %q", box)
			}
			if h := heldPosts(t, s); (len(h) == 1) != tc.held {
				t.Fatalf("held = %+v", h)
			}
		})
	}
}
