package runners

import (
	"os"
	"strings"
	"testing"
	"time"

	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/queue"
)

// bounceTo queues a report from the null sender to team-bounces+VERP as
// deliver would.
func (s *testSite) bounceTo(t *testing.T, verp string, file string, edit func(string) string) {
	t.Helper()
	s.bounceFrom(t, "", verp, file, edit)
}

// verp returns the extension of the signed bounce address of rcpt's copy
// made at when, as deliver records it.
func (s *testSite) verp(t *testing.T, rcpt string, when time.Time) string {
	t.Helper()
	sec, err := s.BounceSecret()
	if err != nil {
		t.Fatal(err)
	}
	return verpExt(t, sec.Address("team@lists.test", rcpt, when))
}

// verpExt returns what deliver records as the extension of a bounce address.
func verpExt(t *testing.T, addr string) string {
	t.Helper()
	idx, _ := listaddr.ParseIndex(strings.NewReader("team@lists.test\n"))
	_, sub, ext, ok := idx.Resolve(addr)
	if !ok || sub != queue.SubBounces {
		t.Fatalf("%s is not a bounce address of team: %s %v", addr, sub, ok)
	}
	return ext
}

// bounceFrom queues a report from sender to team-bounces+VERP as deliver would.
func (s *testSite) bounceFrom(t *testing.T, sender, verp string, file string, edit func(string) string) {
	t.Helper()
	raw, err := os.ReadFile("../bounce/testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	msg := string(raw)
	if edit != nil {
		msg = edit(msg)
	}
	m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubBounces, Extension: verp, Sender: sender, Received: time.Now().UTC()}
	if _, err := s.Queue(queue.In).Enqueue(m, strings.NewReader(msg), 0); err != nil {
		t.Fatal(err)
	}
}

// TestBounceScores: a Postfix DSN to bob's VERP address scores one; a
// second the same day does not; delays and auto-replies score nothing.
func TestBounceScores(t *testing.T) {
	s := newTestSite(t)
	now := time.Now()
	s.bounceTo(t, s.verp(t, "bob@subs.test", now), "postfix-failed.eml", nil)
	s.bounceTo(t, s.verp(t, "bob@subs.test", now), "exim-failed.eml", nil) // same day: not counted again
	s.bounceTo(t, s.verp(t, "cat@subs.test", now), "postfix-delayed.eml", nil)
	s.bounceTo(t, s.verp(t, "cat@subs.test", now), "vacation.eml", nil)
	s.drain(t)
	bob, cat := s.member(t, "bob@subs.test"), s.member(t, "cat@subs.test")
	if bob.Bounces == nil || bob.Bounces.Score != 1 || bob.Delivery != lists.DeliveryEnabled {
		t.Fatalf("bob: %+v %+v", bob, bob.Bounces)
	}
	if cat.Bounces != nil {
		t.Fatalf("cat scored: %+v", cat.Bounces)
	}
	if m := s.mailbox(t, "ann@subs.test"); len(m) != 0 {
		t.Fatalf("owner told before the threshold: %s", m[0])
	}
	for _, q := range []string{queue.Bounces, queue.Bad} {
		if f := s.files(t, q); len(f) != 0 {
			t.Fatalf("queue %s left %v", q, f)
		}
	}
}

// TestBounceDisablesAndTellsOwner: at the threshold delivery stops and the
// owner gets a notice that names the address and the status but holds
// nothing of the returned message (here a post of an encrypted list).
func TestBounceDisablesAndTellsOwner(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"bounce_threshold": "1", "pgp_post_encrypt": "yes"})
	s.bounceTo(t, s.verp(t, "cat@subs.test", time.Now()), "exim-plain-failed.eml", func(m string) string {
		return strings.ReplaceAll(strings.ReplaceAll(m, "dan@else.test", "cat@subs.test"), "RETURNED-BODY-MARKER", "SECRET-PLAINTEXT")
	})
	s.drain(t)
	if c := s.member(t, "cat@subs.test"); c.Delivery != lists.DeliveryDisabled || c.Bounces.Disabled.IsZero() {
		t.Fatalf("cat: %+v %+v", c, c.Bounces)
	}
	mail := s.mailbox(t, "ann@subs.test")
	if len(mail) != 1 {
		t.Fatalf("owner got %d messages", len(mail))
	}
	n := string(mail[0])
	for _, want := range []string{"Subject: Delivery to cat@subs.test disabled after bounces", "failed\npermanently on 1 days", "Last status: 5.1.1"} {
		if !strings.Contains(n, want) {
			t.Errorf("notice lacks %q:\n%s", want, n)
		}
	}
	for _, leak := range []string{"SECRET-PLAINTEXT", "No such user", "[team] Minutes"} {
		if strings.Contains(n, leak) {
			t.Errorf("notice holds %q:\n%s", leak, n)
		}
	}
	// The next post no longer goes to cat.
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: After\n\nbody\n")
	s.drain(t)
	if m := s.mailbox(t, "cat@subs.test"); len(m) != 0 {
		t.Fatalf("cat still receives posts")
	}
}

// TestBounceDiagnosticForPlainList: owners of a list without encryption
// see the remote server's reply.
func TestBounceDiagnosticForPlainList(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"bounce_threshold": "1"})
	s.bounceTo(t, s.verp(t, "bob@subs.test", time.Now()), "postfix-failed.eml", nil)
	s.drain(t)
	mail := s.mailbox(t, "ann@subs.test")
	if len(mail) != 1 || !strings.Contains(string(mail[0]), "Remote server said: 550 5.1.1 <bob@subs.test>: Recipient address rejected") ||
		strings.Contains(string(mail[0]), "RETURNED-BODY-MARKER") {
		t.Fatalf("owner mail: %q", mail)
	}
}
