package runners

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloister/lists"
	"cloister/moderation"
	"cloister/queue"
)

var confirmFromRE = regexp.MustCompile(`(?m)^From: team-confirm\+([a-z2-7]+)@lists\.test$`)

// TestRequestAuthConfirmed: send.private_key asks a member's unproven (smtp)
// post to be confirmed; the request comes from and replies to
// LIST-confirm+TOKEN; moderation.ConfirmPost evaluates the scenario again with md5 and
// the post is distributed; the token cannot be used twice.
func TestRequestAuthConfirmed(t *testing.T) {
	s := newTestSite(t)
	setSetting(t, s, "send", "send.private_key")
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 0 {
		t.Fatalf("unconfirmed post distributed")
	}
	req := oneMessage(t, s, "bob@subs.test")
	tok := replyToken(t, req)
	if m := confirmFromRE.FindSubmatch(req); m == nil || string(m[1]) != tok {
		t.Fatalf("request From is not LIST-confirm+TOKEN:\n%s", req)
	}
	if len(tok) < 26 { // base32: 26 characters hold 130 bits
		t.Fatalf("token %q is shorter than 128 bits", tok)
	}
	if !bytes.Contains(req, []byte("Subject: Confirm your post to team@lists.test")) || !bytes.Contains(req, []byte("Minutes")) {
		t.Fatalf("request:\n%s", req)
	}
	held := heldPosts(t, s)
	if len(held) != 1 || held[0].Reason != "waiting for the sender to confirm the post" {
		t.Fatalf("held = %+v", held)
	}
	if err := moderation.ConfirmPost(s.Site, strings.ToUpper(tok)); err != nil { // tokens are case-insensitive
		t.Fatal(err)
	}
	s.drain(t)
	got := oneMessage(t, s, "cat@subs.test")
	if !bytes.Contains(got, []byte("The minutes are attached.")) {
		t.Fatalf("confirmed post: %s", got)
	}
	if err := moderation.ConfirmPost(s.Site, tok); !errors.Is(err, lists.ErrTokenUsed) {
		t.Fatalf("second use: %v, want ErrTokenUsed", err)
	}
	if h := heldPosts(t, s); len(h) != 0 {
		t.Fatalf("held left: %+v", h)
	}
	for _, q := range []string{queue.Held, queue.Bad, queue.Out} {
		if f := s.files(t, q); len(f) != 0 {
			t.Errorf("queue %s left %v", q, f)
		}
	}
	if !strings.Contains(s.logs.String(), "decision=request_auth") {
		t.Errorf("log lacks the request_auth decision")
	}
}

// TestRequestAuthConfirmedThenHeld: a confirmed post that the scenario then
// holds (md5 -> editorkey) stays held, now for the moderators.
func TestRequestAuthConfirmedThenHeld(t *testing.T) {
	s := newTestSite(t)
	dir := t.TempDir()
	writeScenario(t, dir, "send.confirm_then_moderate", "true() smtp -> request_auth\ntrue() md5 -> editorkey\n")
	s.Config.ScenarioDir = dir
	setSetting(t, s, "send", "send.confirm_then_moderate")
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	tok := replyToken(t, oneMessage(t, s, "bob@subs.test"))
	if err := moderation.ConfirmPost(s.Site, tok); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	held := heldPosts(t, s)
	if len(held) != 1 || !strings.Contains(held[0].Reason, "moderators approve") {
		t.Fatalf("held = %+v", held)
	}
	n := oneMessage(t, s, "ann@subs.test")
	if err := moderation.ConfirmPost(s.Site, replyToken(t, n)); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	if got := oneMessage(t, s, "cat@subs.test"); !bytes.Contains(got, []byte("The minutes")) {
		t.Fatalf("post: %s", got)
	}
	if f := s.files(t, queue.Held); len(f) != 0 {
		t.Errorf("held queue left %v", f)
	}
}

// TestHeldEncryptedPostNoticeHasNoPlaintext (security invariant 2): a post
// that arrived encrypted (its decrypted plaintext in the rules queue, as the
// incoming runner leaves it) is held; the moderator's notice carries some of
// its headers, never its subject or body, and neither does the rejection
// notice to its sender.
func TestHeldEncryptedPostNoticeHasNoPlaintext(t *testing.T) {
	s := newTestSite(t)
	setSetting(t, s, "send", "send.editorkey")
	m := &queue.Meta{
		List: "team@lists.test", Subaddress: queue.SubPost, Sender: "eve@else.test", From: "eve@else.test",
		Recipient: "team@lists.test", Encryption: "pgp-mime", Verdict: "none", Auth: "smtp",
	}
	msg := "From: eve@else.test\nTo: team@lists.test\nSubject: SUBJECT-MARKER-7731\nMessage-ID: <enc1@else.test>\n" +
		"Content-Type: text/plain\n\nBODY-MARKER-4412 the plaintext of an encrypted post\n"
	if _, err := s.Queue(queue.Rules).Enqueue(m, strings.NewReader(msg), 0); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	n := oneMessage(t, s, "ann@subs.test")
	for _, marker := range []string{"SUBJECT-MARKER-7731", "BODY-MARKER-4412", "plaintext of an encrypted"} {
		if bytes.Contains(n, []byte(marker)) {
			t.Fatalf("moderator notice carries %q:\n%s", marker, n)
		}
	}
	for _, want := range []string{"From: eve@else.test", "Message-ID: <enc1@else.test>", "arrived encrypted"} {
		if !bytes.Contains(n, []byte(want)) {
			t.Errorf("notice lacks %q:\n%s", want, n)
		}
	}
	if bytes.Contains(n, []byte("message/rfc822")) {
		t.Fatalf("notice attaches the post")
	}
	held := heldPosts(t, s)
	if len(held) != 1 || held[0].Subject != "" {
		t.Fatalf("held record shows the protected subject: %+v", held)
	}
	if err := moderation.Reject(s.Site, held[0].ID, "not for this list", "test"); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	r := oneMessage(t, s, "eve@else.test")
	if bytes.Contains(r, []byte("MARKER")) || !bytes.Contains(r, []byte("not for this list")) {
		t.Fatalf("rejection notice:\n%s", r)
	}
}

// TestHeldPostsExpire: a held post past held_expire_days is dropped with a
// notice to its sender; its moderator tokens are refused as expired, and
// purged moderation.ExpiredTokenKeep after their expiry.
func TestHeldPostsExpire(t *testing.T) {
	s := newTestSite(t)
	setSetting(t, s, "send", "send.editorkey")
	setSetting(t, s, "held_expire_days", "3")
	s.deliver(t, queue.SubPost, "eve@else.test", "From: eve@else.test\nTo: team@lists.test\nSubject: Offer\n\nbuy\n")
	s.drain(t)
	tok := replyToken(t, oneMessage(t, s, "ann@subs.test"))
	now := time.Now()
	got, err := moderation.ExpireHeld(s.Site, now.Add(2*24*time.Hour))
	if err != nil || got != (moderation.Expired{}) {
		t.Fatalf("before expiry: %+v, %v", got, err)
	}
	if len(heldPosts(t, s)) != 1 {
		t.Fatalf("held post dropped early")
	}
	got, err = moderation.ExpireHeld(s.Site, now.Add(3*24*time.Hour+time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if got.Held != 1 || got.Tokens != 0 { // the tokens are kept moderation.ExpiredTokenKeep
		t.Fatalf("expired %+v, want 1 post and no token", got)
	}
	s.drain(t)
	n := oneMessage(t, s, "eve@else.test")
	if !bytes.Contains(n, []byte("expired without a decision")) || !bytes.Contains(n, []byte("waited 3 days")) {
		t.Fatalf("expiry notice:\n%s", n)
	}
	if h := heldPosts(t, s); len(h) != 0 {
		t.Fatalf("held left: %+v", h)
	}
	if f := s.files(t, queue.Held); len(f) != 0 {
		t.Fatalf("held queue left %v", f)
	}
	s.Lists.Now = func() time.Time { return now.Add(3*24*time.Hour + time.Minute) }
	if err := moderation.ConfirmPost(s.Site, tok); !errors.Is(err, lists.ErrTokenExpired) {
		t.Fatalf("expired token: %v, want ErrTokenExpired", err)
	}
	got, err = moderation.ExpireHeld(s.Site, now.Add(3*24*time.Hour+moderation.ExpiredTokenKeep+time.Minute))
	if err != nil || got.Tokens != 2 { // approve and reject tokens of ann
		t.Fatalf("purge: %+v, %v; want 2 tokens", got, err)
	}
	if err := moderation.ConfirmPost(s.Site, tok); !errors.Is(err, lists.ErrNoToken) {
		t.Fatalf("purged token: %v, want ErrNoToken", err)
	}
}

// TestConfirmationTokenExpires: an unanswered confirmation request expires
// after token_expire_hours: the token is refused, then the post is dropped
// (without a notice: its sender never confirmed it); the token is purged
// moderation.ExpiredTokenKeep later.
func TestConfirmationTokenExpires(t *testing.T) {
	s := newTestSite(t)
	setSetting(t, s, "send", "send.private_key")
	setSetting(t, s, "token_expire_hours", "2")
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	tok := replyToken(t, oneMessage(t, s, "bob@subs.test"))
	later := time.Now().Add(2*time.Hour + time.Minute)
	s.Lists.Now = func() time.Time { return later }
	if err := moderation.ConfirmPost(s.Site, tok); !errors.Is(err, lists.ErrTokenExpired) {
		t.Fatalf("expired token: %v, want ErrTokenExpired", err)
	}
	got, err := moderation.ExpireHeld(s.Site, later)
	if err != nil || got.Held != 1 || got.Tokens != 0 {
		t.Fatalf("expire: %+v, %v", got, err)
	}
	if err := moderation.ConfirmPost(s.Site, tok); !errors.Is(err, lists.ErrTokenExpired) {
		t.Fatalf("expired token after the sweep: %v, want ErrTokenExpired", err)
	}
	if got, err := moderation.ExpireHeld(s.Site, later.Add(moderation.ExpiredTokenKeep)); err != nil || got.Tokens != 1 {
		t.Fatalf("purge: %+v, %v", got, err)
	}
	s.drain(t)
	if box := s.mailbox(t, "bob@subs.test"); len(box) != 1 {
		t.Fatalf("bob received %d messages, want only the confirmation request", len(box))
	}
	if err := moderation.ConfirmPost(s.Site, tok); !errors.Is(err, lists.ErrNoToken) {
		t.Fatalf("purged token: %v, want ErrNoToken", err)
	}
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 0 {
		t.Fatalf("expired post distributed")
	}
}

func TestConfirmPostRefusesOtherTokens(t *testing.T) {
	s := newTestSite(t)
	var tok string
	err := s.Lists.Update(func(tx *lists.Tx) error {
		tk := &lists.Token{List: "team@lists.test", Address: "dan@else.test", Action: "subscribe"}
		err := tx.NewToken(tk, 0)
		tok = tk.Value
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := moderation.ConfirmPost(s.Site, tok); !errors.Is(err, moderation.ErrNotPostToken) {
		t.Fatalf("subscribe token: %v, want ErrNotPostToken", err)
	}
	err = s.Lists.View(func(tx *lists.Tx) error {
		tk, err := tx.Token(tok)
		if err == nil && !tk.Used.IsZero() {
			t.Errorf("a token for another action was spent")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := moderation.ConfirmPost(s.Site, "nosuchtoken"); !errors.Is(err, lists.ErrNoToken) {
		t.Fatalf("unknown token: %v", err)
	}
}

// TestHeldHeaders: `cloister held show` sees the whole header of a clear post
// and only the address fields of one that arrived encrypted.
func TestHeldHeaders(t *testing.T) {
	s := newTestSite(t)
	setSetting(t, s, "send", "send.editorkey")
	for _, enc := range []string{"none", "smime"} {
		m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubPost, Sender: "eve@else.test", From: "eve@else.test",
			Encryption: enc, Verdict: "none", Auth: "smtp"}
		msg := "From: eve@else.test\nTo: team@lists.test\nSubject: SUBJECT-" + enc + "\nX-Extra: yes\n\nBODY-MARKER\n"
		if _, err := s.Queue(queue.Rules).Enqueue(m, strings.NewReader(msg), 0); err != nil {
			t.Fatal(err)
		}
	}
	s.drain(t)
	held := heldPosts(t, s)
	if len(held) != 2 {
		t.Fatalf("held = %+v", held)
	}
	for _, h := range held {
		m, headers, err := moderation.HeldHeaders(s.Site, h)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(headers, "BODY-MARKER") {
			t.Fatalf("headers show the body: %q", headers)
		}
		switch m.Encryption {
		case "none":
			if !strings.Contains(headers, "Subject: SUBJECT-none") || !strings.Contains(headers, "X-Extra: yes") {
				t.Fatalf("clear post headers: %q", headers)
			}
		case "smime":
			if strings.Contains(headers, "SUBJECT") || strings.Contains(headers, "X-Extra") || !strings.Contains(headers, "From: eve@else.test") {
				t.Fatalf("encrypted post headers: %q", headers)
			}
		default:
			t.Fatalf("metadata: %+v", m)
		}
		if m.HeldID != h.ID || !strings.HasPrefix(m.Decision, "hold: ") {
			t.Fatalf("metadata: %+v", m)
		}
	}
}

// pendingFiles returns the raw contents of a queue's .msg files.
func pendingFiles(t *testing.T, s *testSite, q string) [][]byte {
	t.Helper()
	names, err := s.Queue(q).Pending(queue.All)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(s.Queue(q).Dir, n+".msg"))
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// TestEncryptedPostsStaySealedThroughModeration (security invariant 2): a
// post that arrived encrypted is sealed at rest while held or awaiting its
// sender's confirmation, and stays sealed when approved or confirmed into
// the pipeline queue; the queue key opens it there.
func TestEncryptedPostsStaySealedThroughModeration(t *testing.T) {
	const marker = "SEALED-MARKER-5150"
	enqueue := func(s *testSite, from string) {
		m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubPost, Sender: from, From: from,
			Encryption: "pgp-mime", Verdict: "none", Auth: "smtp"}
		msg := "From: " + from + "\nTo: team@lists.test\nSubject: s\n\n" + marker + "\n"
		if _, err := s.Queue(queue.Rules).Enqueue(m, strings.NewReader(msg), 0); err != nil {
			t.Fatal(err)
		}
	}
	checkSealed := func(t *testing.T, s *testSite, q string) {
		t.Helper()
		files := pendingFiles(t, s, q)
		if len(files) != 1 {
			t.Fatalf("queue %s holds %d entries", q, len(files))
		}
		if bytes.Contains(files[0], []byte(marker)) {
			t.Fatalf("queue %s holds the plaintext", q)
		}
		names, _ := s.Queue(q).Pending(queue.All)
		e, err := s.Queue(q).Claim(names[0])
		if err != nil {
			t.Fatal(err)
		}
		raw, err := e.Body()
		if err != nil {
			t.Fatal(err)
		}
		pt, err := s.OpenBody(e.Meta, raw)
		if err != nil || !bytes.Contains(pt, []byte(marker)) {
			t.Fatalf("queue %s: opened %q, %v", q, pt, err)
		}
		if err := s.Queue(q).Put(e, e.Meta, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	t.Run("held then approved", func(t *testing.T) {
		s := newTestSite(t)
		setSetting(t, s, "send", "send.editorkey")
		enqueue(s, "eve@else.test")
		if err := Drain(context.Background(), s.Site); err != nil {
			t.Fatal(err)
		}
		checkSealed(t, s, queue.Held)
		held := heldPosts(t, s)
		if len(held) != 1 {
			t.Fatalf("held = %+v", held)
		}
		if err := moderation.Approve(s.Site, held[0].ID, "test"); err != nil {
			t.Fatal(err)
		}
		checkSealed(t, s, queue.Pipeline)
	})
	t.Run("confirmed", func(t *testing.T) {
		s := newTestSite(t)
		setSetting(t, s, "send", "send.private_key")
		enqueue(s, "bob@subs.test")
		if err := Drain(context.Background(), s.Site); err != nil {
			t.Fatal(err)
		}
		checkSealed(t, s, queue.Held)
		req := oneMessage(t, s, "bob@subs.test")
		if bytes.Contains(req, []byte(marker)) {
			t.Fatalf("confirmation request carries the plaintext")
		}
		if err := moderation.ConfirmPost(s.Site, replyToken(t, req)); err != nil {
			t.Fatal(err)
		}
		checkSealed(t, s, queue.Pipeline)
		if f := s.files(t, queue.Held); len(f) != 0 {
			t.Fatalf("held queue left %v", f)
		}
	})
}
