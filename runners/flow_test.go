package runners

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/lists"
	"cloister/moderation"
	"cloister/queue"
)

const post = "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Minutes\nMessage-ID: <m1@subs.test>\n\nThe minutes are attached.\r\nLine with CRLF.\n"

func TestPostThroughEveryRunner(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	for _, rcpt := range []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"} {
		box := s.mailbox(t, rcpt)
		if len(box) != 1 {
			t.Fatalf("%s received %d messages", rcpt, len(box))
		}
		got := string(box[0])
		for _, want := range []string{
			"Return-Path: <team-bounces+", // signed VERP (bounce_forged_test.go)
			"-" + strings.Replace(rcpt, "@", "=", 1) + "@lists.test>",
			"Subject: [team] Minutes",
			"List-Id: ",
			"<team.lists.test>",
			"List-Post: <mailto:team@lists.test>",
			"List-Unsubscribe: ",
			"X-Loop: team@lists.test",
		} {
			if !strings.Contains(got, want) {
				t.Errorf("%s's copy lacks %q:\n%s", rcpt, want, got)
			}
		}
		_, body, _ := strings.Cut(got, "\n\n")
		if body != "The minutes are attached.\nLine with CRLF.\n" { // the sink stores LF, as a local delivery does
			t.Errorf("body changed: %q", body)
		}
	}
	for _, q := range []string{queue.In, queue.Rules, queue.Pipeline, queue.Archive, queue.Out, queue.Retry, queue.Bad, queue.Held} {
		if f := s.files(t, q); len(f) != 0 {
			t.Errorf("queue %s left %v", q, f)
		}
	}
	arch, _ := filepath.Glob(filepath.Join(s.Config.ArchiveDir("team@lists.test"), "new", "*"))
	if len(arch) != 1 {
		t.Fatalf("archive holds %v", arch)
	}
}

func TestNonMemberHeldAndApproved(t *testing.T) {
	s := newTestSite(t)
	// send.private (the default) rejects non-members; send.editorkey holds them.
	setSetting(t, s, "send", "send.editorkey")
	s.deliver(t, queue.SubPost, "eve@else.test", "From: eve@else.test\nTo: team@lists.test\nSubject: Offer\n\nSECRET-MARKER body\n")
	s.drain(t)
	if box := s.mailbox(t, "bob@subs.test"); len(box) != 0 {
		t.Fatalf("held post was distributed")
	}
	notices := s.mailbox(t, "ann@subs.test")
	if len(notices) != 1 || !bytes.Contains(notices[0], []byte("held for moderation")) {
		t.Fatalf("owner notices: %q", notices)
	}
	// A post that arrived in clear is attached to the moderator's notice
	// (one that arrived encrypted never is: see rules_flow_test.go).
	if !bytes.Contains(notices[0], []byte("Content-Type: message/rfc822")) || !bytes.Contains(notices[0], []byte("SECRET-MARKER")) {
		t.Fatalf("the moderator notice does not carry the clear post as an attachment")
	}
	var held []*lists.Held
	s.Lists.View(func(tx *lists.Tx) error { var err error; held, err = tx.HeldFor("team@lists.test"); return err })
	if len(held) != 1 || held[0].Sender != "eve@else.test" || held[0].Subject != "Offer" {
		t.Fatalf("held = %+v", held)
	}
	if err := moderation.Approve(s.Site, held[0].ID, "test"); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if box := s.mailbox(t, "bob@subs.test"); len(box) != 1 || !bytes.Contains(box[0], []byte("SECRET-MARKER")) {
		t.Fatalf("approved post not distributed: %q", box)
	}
	if f := s.files(t, queue.Held); len(f) != 0 {
		t.Fatalf("held queue left %v", f)
	}
}

func TestRequestAnsweredWithHelp(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: help\n\nhelp\n")
	s.deliver(t, queue.SubRequest, "", "From: MAILER-DAEMON@else.test\nSubject: bounce\n\nx\n") // null sender: no answer
	s.drain(t)
	box := s.mailbox(t, "dan@else.test")
	if len(box) != 1 || !bytes.Contains(box[0], []byte("To subscribe:")) || !bytes.Contains(box[0], []byte("Auto-Submitted: auto-replied")) {
		t.Fatalf("reply = %q", box)
	}
}

func TestOwnerMailForwarded(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubOwner, "dan@else.test", "From: dan@else.test\nSubject: question\n\nhi owners\n")
	s.drain(t)
	if box := s.mailbox(t, "ann@subs.test"); len(box) != 1 || !bytes.Contains(box[0], []byte("hi owners")) {
		t.Fatalf("owner got %q", box)
	}
	if box := s.mailbox(t, "bob@subs.test"); len(box) != 0 {
		t.Fatalf("a member got owner mail")
	}
}

// TestBadInput: each unusable message ends in bad with a reason, nothing is
// lost, and the good post behind them is delivered.
func TestBadInput(t *testing.T) {
	nested := "From: a@subs.test\nContent-Type: multipart/mixed; boundary=b0\n\n"
	for i := 0; i < 100; i++ {
		nested += fmt.Sprintf("--b%d\nContent-Type: multipart/mixed; boundary=b%d\n\n", i, i+1)
	}
	nested += "x\n"
	for _, tc := range []struct {
		name, msg, reason string
	}{
		{"no From", "Subject: x\n\nbody\n", "post without a usable From"},
		{"header line over 998", "From: bob@subs.test\nSubject: " + strings.Repeat("x", 1200) + "\n\nb\n", "header line exceeds 998"},
		{"nested 100 deep", nested, "unreadable MIME structure"},
		{"truncated boundary", "From: bob@subs.test\nContent-Type: multipart/mixed; boundary=zz\n\n--zz\nContent-Type: text/plain\n\npart\n", "unreadable MIME structure"},
		{"garbage", "\x00\x01\x02 not a message", "unreadable message header"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSite(t)
			s.deliver(t, queue.SubPost, "bob@subs.test", tc.msg)
			s.deliver(t, queue.SubPost, "bob@subs.test", post)
			s.drain(t)
			reasons := s.badReasons(t)
			if len(reasons) != 1 || !strings.Contains(reasons[0], tc.reason) {
				t.Fatalf("bad reasons = %q, want one with %q", reasons, tc.reason)
			}
			if len(s.mailbox(t, "cat@subs.test")) != 1 {
				t.Fatalf("the good post behind it was not delivered")
			}
		})
	}
}

// TestEightBitHeadersAccepted: 8-bit and non-UTF-8 header bytes are not an
// error; they travel unchanged.
func TestEightBitHeadersAccepted(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: caf\xe9 na\xefve\nX-Raw: \xff\xfe\n\nbody\n")
	s.drain(t)
	box := s.mailbox(t, "cat@subs.test")
	if len(box) != 1 || !bytes.Contains(box[0], []byte("X-Raw: \xff\xfe")) {
		t.Fatalf("got %q", box)
	}
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
}

// poisonRunner is the pipeline runner, except that it panics on one entry.
type poisonRunner struct{ Pipeline }

func (p poisonRunner) Process(ctx context.Context, j *Job) error {
	b, _ := j.Body()
	if bytes.Contains(b, []byte("POISON")) {
		panic("handler exploded on this entry")
	}
	return p.Pipeline.Process(ctx, j)
}

func TestPoisonedEntryDoesNotStopTheQueue(t *testing.T) {
	s := newTestSite(t)
	for i, subj := range []string{"first", "POISON", "third", "fourth"} {
		m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubPost, Sender: "bob@subs.test", From: "bob@subs.test",
			Received: time.Now().Add(time.Duration(i) * time.Millisecond).UTC()}
		if _, err := s.Queue(queue.Pipeline).Enqueue(m, strings.NewReader("From: bob@subs.test\nSubject: "+subj+"\n\nbody\n"), 0); err != nil {
			t.Fatal(err)
		}
	}
	l := &Loop{Site: s.Site, Runner: poisonRunner{}, Slice: queue.All, Once: true}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	reasons := s.badReasons(t)
	if len(reasons) != 1 || !strings.Contains(reasons[0], "panic: handler exploded on this entry") {
		t.Fatalf("bad = %q", reasons)
	}
	if n := len(s.mailbox(t, "cat@subs.test")); n != 3 {
		t.Fatalf("cat got %d posts, want the 3 behind and around the poisoned one", n)
	}
}

func TestTemporaryAndPermanentRefusals(t *testing.T) {
	s := newTestSite(t)
	s.sink.SetRefuse("bob@subs.test", 450)
	s.sink.SetRefuse("cat@subs.test", 550)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	if len(s.mailbox(t, "ann@subs.test")) != 1 {
		t.Fatal("ann did not get the post")
	}
	retry, _ := s.Queue(queue.Retry).Pending(queue.All)
	if len(retry) != 1 {
		t.Fatalf("retry holds %v", retry)
	}
	e, _ := s.Queue(queue.Retry).Peek(retry[0])
	if strings.Join(e.Meta.Recipients, ",") != "bob@subs.test" || !e.Meta.NextTry.After(time.Now()) {
		t.Fatalf("retry entry = %+v", e.Meta)
	}
	if len(e.Meta.Failed) != 1 || e.Meta.Failed[0].Recipient != "cat@subs.test" || !strings.HasPrefix(e.Meta.Failed[0].Reply, "550") {
		t.Fatalf("failed = %+v", e.Meta.Failed)
	}
	// The MTA recovers; the retry falls due.
	s.sink.SetRefuse("bob@subs.test", 0)
	claimed, err := s.Queue(queue.Retry).Claim(retry[0])
	if err != nil {
		t.Fatal(err)
	}
	m := claimed.Meta.Clone()
	m.NextTry = time.Now().Add(-time.Second)
	if err := s.Queue(queue.Retry).Put(claimed, m, time.Now()); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if len(s.mailbox(t, "bob@subs.test")) != 1 || len(s.mailbox(t, "ann@subs.test")) != 1 {
		t.Fatal("retry did not deliver exactly once more")
	}
}

func TestMTADownGoesToRetry(t *testing.T) {
	s := newTestSite(t)
	s.sink.Close()
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	retry, _ := s.Queue(queue.Retry).Pending(queue.All)
	if len(retry) != 1 {
		t.Fatalf("retry holds %v", retry)
	}
	e, _ := s.Queue(queue.Retry).Peek(retry[0])
	if len(e.Meta.Recipients) != 3 {
		t.Fatalf("deferred recipients = %v", e.Meta.Recipients)
	}
}

// TestOutgoingJournalSkipsDelivered: a crash after some transactions leaves a
// journal; the recovered entry is sent only to the rest.
func TestOutgoingJournalSkipsDelivered(t *testing.T) {
	s := newTestSite(t)
	m := &queue.Meta{List: "team@lists.test", Kind: "post", Recipients: []string{"ann@subs.test", "bob@subs.test", "cat@subs.test"}, Received: time.Now().UTC()}
	name, err := s.Queue(queue.Out).Enqueue(m, strings.NewReader("From: x@subs.test\nSubject: j\n\nb\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	e, _ := s.Queue(queue.Out).Peek(name)
	os.WriteFile(filepath.Join(s.Queue(queue.Out).Dir, ".progress-"+e.Meta.ID), []byte("ok ann@subs.test\nok bob@subs.test\nok cat@su"), 0o600)
	s.drain(t)
	if len(s.mailbox(t, "ann@subs.test")) != 0 || len(s.mailbox(t, "bob@subs.test")) != 0 || len(s.mailbox(t, "cat@subs.test")) != 1 {
		t.Fatal("journaled recipients were sent again, or the torn line was skipped")
	}
	if f := s.files(t, queue.Out); len(f) != 0 {
		t.Fatalf("out left %v", f)
	}
}

func TestUnknownErrorRetriedThenBad(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	// The list store is gone for a moment: an unknown (temporary) error.
	l := &Loop{Site: s.Site, Runner: failing{}, Slice: queue.All, Once: true}
	for i := 0; i < 3; i++ {
		names, _ := s.Queue(queue.In).Pending(queue.All)
		for _, n := range names { // make the backoff due at once
			e, _ := s.Queue(queue.In).Claim(n)
			s.Queue(queue.In).Put(e, e.Meta, time.Now())
		}
		if err := l.Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	reasons := s.badReasons(t)
	if len(reasons) != 1 || !strings.Contains(reasons[0], "failed 3 times: store unavailable") {
		t.Fatalf("bad = %q", reasons)
	}
}

type failing struct{ Incoming }

func (failing) Process(context.Context, *Job) error { return errors.New("store unavailable") }

func TestBounceRecordedBySubscriber(t *testing.T) {
	s := newTestSite(t)
	m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubBounces, Extension: s.verp(t, "cat@subs.test", time.Now()), Sender: "", Received: time.Now().UTC()}
	if _, err := s.Queue(queue.In).Enqueue(m, strings.NewReader("From: MAILER-DAEMON@subs.test\nSubject: Undelivered Mail\n\nx\n"), 0); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if !strings.Contains(s.logs.String(), "bounce recorded") || !strings.Contains(s.logs.String(), "subscriber=cat@subs.test") {
		t.Fatalf("logs:\n%s", s.logs)
	}
	for _, q := range []string{queue.In, queue.Bounces, queue.Command, queue.Bad} {
		if f := s.files(t, q); len(f) != 0 {
			t.Fatalf("queue %s left %v", q, f)
		}
	}
}
