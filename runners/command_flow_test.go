package runners

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloister/lists"
	"cloister/queue"
)

// oneReply returns the only message in rcpt's mailbox.
func oneReply(t *testing.T, s *testSite, rcpt string) string {
	t.Helper()
	box := s.mailbox(t, rcpt)
	if len(box) != 1 {
		t.Fatalf("%s received %d messages: %q", rcpt, len(box), box)
	}
	return string(box[0])
}

// deliverConfirm queues mail to team-confirm+TOKEN, as deliver does.
func (s *testSite) deliverConfirm(t *testing.T, tok, sender, msg string) {
	t.Helper()
	m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubConfirm, Extension: tok, Sender: sender,
		Recipient: "team-confirm+" + tok + "@lists.test", Received: time.Now().UTC()}
	if _, err := s.Queue(queue.In).Enqueue(m, strings.NewReader(msg), 0); err != nil {
		t.Fatal(err)
	}
}

func (s *testSite) setList(t *testing.T, settings map[string]string) {
	t.Helper()
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		for k, v := range settings {
			if err := l.Settings.Set(k, v); err != nil {
				return err
			}
		}
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func (s *testSite) member(t *testing.T, addr string) *lists.Member {
	t.Helper()
	var m *lists.Member
	s.Lists.View(func(tx *lists.Tx) error {
		m, _ = tx.Member("team@lists.test", addr)
		return nil
	})
	return m
}

var cmdConfirmRE = regexp.MustCompile(`team-confirm\+([a-z2-7]{32})@lists\.test`)

func tokenIn(t *testing.T, mail string) string {
	t.Helper()
	m := cmdConfirmRE.FindStringSubmatch(mail)
	if m == nil {
		t.Fatalf("no confirmation address in:\n%s", mail)
	}
	return m[1]
}

func TestCommandHelpInfoWhich(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: commands\nMessage-ID: <c1@subs.test>\n\nhelp\ninfo\nwhich\nfrobnicate\nend\nwho\n")
	s.drain(t)
	r := oneReply(t, s, "bob@subs.test")
	for _, want := range []string{
		"From: team-request@lists.test", "In-Reply-To: <c1@subs.test>", "Auto-Submitted: auto-replied",
		"> help\n  done: This is the Cloister list server", "subscribe [ADDRESS] [NAME]",
		"> info\n  done: List:          team@lists.test", "Description:   The team",
		"> which\n  done: bob@subs.test is on:\n      team@lists.test (member)",
		"> frobnicate\n  unknown:", "> end\n  done",
	} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "> who") {
		t.Errorf("a line after end was read:\n%s", r)
	}
}

// TestCommandJunkBounded: 10,000 lines of junk are answered with one reply
// of bounded size.
func TestCommandJunkBounded(t *testing.T) {
	s := newTestSite(t)
	var b strings.Builder
	b.WriteString("From: dan@else.test\nSubject: x\n\n")
	for i := 0; i < 10000; i++ {
		fmt.Fprintf(&b, "junk %d %s\n", i, strings.Repeat("q", 200))
	}
	s.deliver(t, queue.SubRequest, "dan@else.test", b.String())
	s.drain(t)
	r := oneReply(t, s, "dan@else.test")
	if len(r) > 16<<10 || strings.Count(r, "  unknown:") != 20 || !strings.Contains(r, "more lines were not read") {
		t.Fatalf("reply of %d bytes, %d unknown:\n%s", len(r), strings.Count(r, "  unknown:"), r)
	}
}

// TestCommandSubscribeConfirm: the default policy (confirm) sends a token to
// the address; nothing happens until it returns; the token works once.
func TestCommandSubscribeConfirm(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: Dan <dan@else.test>\nSubject: join\n\nsubscribe Dan Smith\n")
	s.drain(t)
	box := s.mailbox(t, "dan@else.test")
	if len(box) != 2 {
		t.Fatalf("dan got %d messages", len(box))
	}
	if s.member(t, "dan@else.test") != nil {
		t.Fatal("subscribed before confirming")
	}
	var tok string
	for _, m := range box {
		if strings.Contains(string(m), "Subject: Confirm: subscribe dan@else.test") {
			tok = tokenIn(t, string(m))
		} else if !strings.Contains(string(m), "pending: a confirmation request was sent to dan@else.test") {
			t.Fatalf("reply:\n%s", m)
		}
	}
	s.deliverConfirm(t, tok, "dan@else.test", "From: dan@else.test\nSubject: Re: Confirm\n\nyes\n")
	s.drain(t)
	mem := s.member(t, "dan@else.test")
	if mem == nil || mem.Name != "Dan Smith" {
		t.Fatalf("member = %+v", mem)
	}
	box = s.mailbox(t, "dan@else.test")
	all := string(bytes.Join(box, []byte("\n=====\n")))
	if !strings.Contains(all, "Subject: Welcome to team@lists.test") || !strings.Contains(all, "done: (subscribe dan@else.test Dan Smith from dan@else.test) dan@else.test is subscribed") {
		t.Fatalf("mail:\n%s", all)
	}
	// A second use is refused.
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\nconfirm "+tok+"\n")
	s.drain(t)
	box = s.mailbox(t, "dan@else.test")
	if last := string(box[len(box)-1]); !strings.Contains(last, "refused: this token was already used") {
		t.Fatalf("second use:\n%s", last)
	}
}

func TestCommandTokenExpires(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubJoin, "dan@else.test", "From: dan@else.test\nSubject: hi\n\n")
	s.drain(t)
	var tok string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Confirm:") {
			tok = tokenIn(t, string(m))
		}
	}
	s.Lists.Now = func() time.Time { return time.Now().Add(73 * time.Hour) }
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\nconfirm "+tok+"\n")
	s.drain(t)
	box := s.mailbox(t, "dan@else.test")
	if last := string(box[len(box)-1]); !strings.Contains(last, "refused: this token has expired") {
		t.Fatalf("expired token:\n%s", last)
	}
	if s.member(t, "dan@else.test") != nil {
		t.Fatal("subscribed by an expired token")
	}
}

// TestCommandSubscribePolicies covers open, approve and confirm+approve,
// and the -leave address with unsubscribe policies.
func TestCommandSubscribePolicies(t *testing.T) {
	t.Run("open", func(t *testing.T) {
		s := newTestSite(t)
		s.setList(t, map[string]string{"subscribe": "subscribe.open", "subscribe_policy": "open"})
		s.deliver(t, queue.SubJoin, "dan@else.test", "From: dan@else.test\n\n")
		s.drain(t)
		if s.member(t, "dan@else.test") == nil {
			t.Fatal("not subscribed")
		}
		// Someone else's address needs that address's confirmation.
		s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\nsubscribe eve@else.test\n")
		s.drain(t)
		if s.member(t, "eve@else.test") != nil || len(s.mailbox(t, "eve@else.test")) != 1 {
			t.Fatal("a third address was subscribed without its confirmation")
		}
	})
	t.Run("approve", func(t *testing.T) {
		s := newTestSite(t)
		s.setList(t, map[string]string{"subscribe": "subscribe.open", "subscribe_policy": "approve"})
		s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\nsubscribe\n")
		s.drain(t)
		if s.member(t, "dan@else.test") != nil {
			t.Fatal("subscribed before approval")
		}
		req := oneReply(t, s, "ann@subs.test")
		if !strings.Contains(req, "dan@else.test asks to subscribe dan@else.test") {
			t.Fatalf("owner request:\n%s", req)
		}
		s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\n\nconfirm "+tokenIn(t, req)+"\n")
		s.drain(t)
		if s.member(t, "dan@else.test") == nil {
			t.Fatal("not subscribed after approval")
		}
	})
	t.Run("confirm+approve", func(t *testing.T) {
		s := newTestSite(t)
		s.setList(t, map[string]string{"subscribe_policy": "confirm+approve"})
		s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\nsubscribe\n")
		s.drain(t)
		var tok string
		for _, m := range s.mailbox(t, "dan@else.test") {
			if strings.Contains(string(m), "Subject: Confirm:") {
				tok = tokenIn(t, string(m))
			}
		}
		if len(s.mailbox(t, "ann@subs.test")) != 0 {
			t.Fatal("owners asked before the address confirmed")
		}
		s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\nconfirm "+tok+"\n")
		s.drain(t)
		if s.member(t, "dan@else.test") != nil {
			t.Fatal("subscribed before approval")
		}
		req := oneReply(t, s, "ann@subs.test")
		s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\n\nconfirm "+tokenIn(t, req)+"\n")
		s.drain(t)
		if s.member(t, "dan@else.test") == nil {
			t.Fatal("not subscribed after confirmation and approval")
		}
	})
	t.Run("leave open", func(t *testing.T) {
		s := newTestSite(t)
		s.setList(t, map[string]string{"unsubscribe": "unsubscribe.open"})
		s.deliver(t, queue.SubLeave, "bob@subs.test", "From: bob@subs.test\n\n")
		s.drain(t)
		if s.member(t, "bob@subs.test") != nil {
			t.Fatal("bob still subscribed")
		}
		if r := oneReply(t, s, "bob@subs.test"); !strings.Contains(r, "done: bob@subs.test is unsubscribed") {
			t.Fatalf("reply:\n%s", r)
		}
	})
	t.Run("leave confirm", func(t *testing.T) {
		s := newTestSite(t)
		s.setList(t, map[string]string{"unsubscribe": "unsubscribe.confirm", "unsubscribe_policy": "confirm"})
		s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\n\nleave\n")
		s.drain(t)
		if s.member(t, "bob@subs.test") == nil {
			t.Fatal("unsubscribed before confirming")
		}
		var tok string
		for _, m := range s.mailbox(t, "bob@subs.test") {
			if strings.Contains(string(m), "Subject: Confirm:") {
				tok = tokenIn(t, string(m))
			}
		}
		s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\n\nconfirm "+tok+"\n")
		s.drain(t)
		if s.member(t, "bob@subs.test") != nil {
			t.Fatal("still subscribed after confirming")
		}
	})
	t.Run("not a member", func(t *testing.T) {
		s := newTestSite(t)
		s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\nunsubscribe\n")
		s.drain(t)
		if r := oneReply(t, s, "dan@else.test"); !strings.Contains(r, "refused: dan@else.test is not subscribed") {
			t.Fatalf("reply:\n%s", r)
		}
	})
}

func TestCommandSetDelivery(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\n\nset delivery off\n")
	s.drain(t)
	if m := s.member(t, "bob@subs.test"); m.Delivery != lists.DeliveryEnabled {
		t.Fatal("delivery changed by an unsigned, unconfirmed request")
	}
	var tok string
	for _, m := range s.mailbox(t, "bob@subs.test") {
		if strings.Contains(string(m), "Subject: Confirm:") {
			tok = tokenIn(t, string(m))
		}
	}
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\n\nconfirm "+tok+"\n")
	s.drain(t)
	if m := s.member(t, "bob@subs.test"); m.Delivery != lists.DeliveryDisabled {
		t.Fatalf("delivery = %s", m.Delivery)
	}
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\nset delivery off\nset subject_prefix [x]\nset send send.public\n")
	s.drain(t)
	r := oneReply(t, s, "dan@else.test")
	for _, want := range []string{"refused: dan@else.test is not subscribed", "refused: only list owners may do this", "refused: \"send\" cannot be set by mail"} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
}

// TestCommandWho: review.owner lets only owners see the roster; the Subject
// line counts as unsigned.
func TestCommandWho(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\nSubject: who\n\n")
	s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\nSubject: review\n\n")
	s.drain(t)
	if r := oneReply(t, s, "bob@subs.test"); !strings.Contains(r, "(from the Subject line: taken as unsigned)") || !strings.Contains(r, "refused: only the list owners may see the member list") {
		t.Fatalf("bob's reply:\n%s", r)
	}
	r := oneReply(t, s, "ann@subs.test")
	if !strings.Contains(r, "done: 3 on team@lists.test:") || !strings.Contains(r, "cat@subs.test") {
		t.Fatalf("ann's reply:\n%s", r)
	}
	// review.private with roster members: members see it.
	s.setList(t, map[string]string{"review": "review.private", "roster": "members"})
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\n\nwho\n")
	s.drain(t)
	box := s.mailbox(t, "bob@subs.test")
	if !strings.Contains(string(box[len(box)-1]), "done: 3 on team@lists.test") {
		t.Fatalf("bob's second reply:\n%s", box[len(box)-1])
	}
}

// TestCommandOwnerUnsigned: owner commands in unsigned mail, even from the
// owner's address, are refused.
func TestCommandOwnerUnsigned(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubRequest, "ann@subs.test", "From: ann@subs.test\n\nadd dan@else.test\nremove bob@subs.test\nmembers\napprove 0123456789ab\nreject 0123456789ab spam\ndiscard 0123456789ab\nkey change\n")
	s.drain(t)
	r := oneReply(t, s, "ann@subs.test")
	if n := strings.Count(r, "refused: only list owners may do this"); n != 3 {
		t.Errorf("%d admin refusals:\n%s", n, r)
	}
	if n := strings.Count(r, "refused: only moderators and owners may do this"); n != 3 {
		t.Errorf("%d moderation refusals:\n%s", n, r)
	}
	if !strings.Contains(r, "> key change\n  refused:") {
		t.Errorf("key change not refused:\n%s", r)
	}
	if s.member(t, "dan@else.test") != nil || s.member(t, "bob@subs.test") == nil {
		t.Fatal("an unsigned owner command changed the roster")
	}
}

// TestCommandNoAnswerToAutomaticMail: bounces and auto-replies get no reply
// and change nothing.
func TestCommandNoAnswerToAutomaticMail(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"subscribe": "subscribe.open", "subscribe_policy": "open"})
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nAuto-Submitted: auto-replied\n\nsubscribe\n")
	s.drain(t)
	if len(s.mailbox(t, "dan@else.test")) != 0 || s.member(t, "dan@else.test") != nil {
		t.Fatal("automatic mail was acted on")
	}
}

// TestCommandAlternative: commands in the text part of an HTML mail.
func TestCommandAlternative(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"subscribe": "subscribe.open", "subscribe_policy": "open"})
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: please\nMIME-Version: 1.0\n"+
		"Content-Type: multipart/alternative; boundary=\"alt\"\n\n--alt\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: quoted-printable\n\n"+
		"subscribe Dan=20Smith\nend\n--alt\nContent-Type: text/html\n\n<p>unsubscribe</p>\n--alt--\n")
	s.drain(t)
	if m := s.member(t, "dan@else.test"); m == nil || m.Name != "Dan Smith" {
		t.Fatalf("member = %+v", m)
	}
	var reply string
	for _, m := range s.mailbox(t, "dan@else.test") {
		if strings.Contains(string(m), "Subject: Re: please") {
			reply = string(m)
		}
	}
	if !strings.Contains(reply, "> subscribe Dan Smith\n  done: dan@else.test is subscribed") || strings.Contains(reply, "unsubscribe") {
		t.Fatalf("reply:\n%s", reply)
	}
}

// TestCommandIndexGet: members fetch archived posts; others are refused.
func TestCommandIndexGet(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: Minutes\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\nARCHIVED-BODY\n")
	s.drain(t)
	s.deliver(t, queue.SubRequest, "cat@subs.test", "From: cat@subs.test\nSubject: x\n\nindex\nget 1\nget 2\n")
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nindex\nget 1\n")
	s.drain(t)
	var r string
	for _, m := range s.mailbox(t, "cat@subs.test") {
		if strings.Contains(string(m), "Subject: Re: x") {
			r = string(m)
		}
	}
	for _, want := range []string{"done: 1 posts in the archive of team@lists.test", "bob@subs.test  [team] Minutes",
		"> get 1\n  done: post 1 is attached", "Content-Type: message/rfc822", "ARCHIVED-BODY", "> get 2\n  refused: the archive has 1 posts"} {
		if !strings.Contains(r, want) {
			t.Errorf("cat's reply lacks %q:\n%s", want, r)
		}
	}
	d := oneReply(t, s, "dan@else.test")
	if strings.Count(d, "refused: only members may fetch the archive") != 2 || strings.Contains(d, "ARCHIVED-BODY") {
		t.Fatalf("dan's reply:\n%s", d)
	}
}

// TestCommandConfirmPostByMail: a post held by request_auth is confirmed by
// mail to its LIST-confirm+TOKEN address through the command runner, once.
func TestCommandConfirmPostByMail(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"send": "send.private_key"})
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: Plans\n\nPOST-BODY-5e1\n")
	s.drain(t)
	req := oneReply(t, s, "bob@subs.test")
	tok := tokenIn(t, req)
	s.deliverConfirm(t, tok, "bob@subs.test", "From: bob@subs.test\nSubject: Re: confirm\n\nok\n")
	s.drain(t)
	found := false
	for _, m := range s.mailbox(t, "cat@subs.test") {
		found = found || strings.Contains(string(m), "POST-BODY-5e1")
	}
	if !found {
		t.Fatalf("confirmed post not distributed; bob got:\n%s", lastMail(t, s, "bob@subs.test"))
	}
	if r := lastMail(t, s, "bob@subs.test"); !strings.Contains(r, "> confirm (mail to team-confirm+...@lists.test)\n  done: confirmed") {
		t.Fatalf("reply:\n%s", r)
	}
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\n\nconfirm "+tok+"\n")
	s.drain(t)
	if r := lastMail(t, s, "bob@subs.test"); !strings.Contains(r, "refused: this token was already used") {
		t.Fatalf("second use:\n%s", r)
	}
}

// TestCommandInfoNotAdvertised: a list that is not advertised shows its
// details to its members only.
func TestCommandInfoNotAdvertised(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"advertised": "no"})
	s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\n\ninfo\n")
	s.deliver(t, queue.SubRequest, "bob@subs.test", "From: bob@subs.test\n\ninfo\n")
	s.drain(t)
	if r := oneReply(t, s, "dan@else.test"); strings.Contains(r, "The team") || !strings.Contains(r, "is not advertised") {
		t.Fatalf("dan's reply:\n%s", r)
	}
	if r := oneReply(t, s, "bob@subs.test"); !strings.Contains(r, "Description:   The team") {
		t.Fatalf("bob's reply:\n%s", r)
	}
}

// TestCommandRequestsBounded: one mail cannot make the list mail many
// third parties.
func TestCommandRequestsBounded(t *testing.T) {
	s := newTestSite(t)
	var b strings.Builder
	b.WriteString("From: dan@else.test\n\n")
	for i := 0; i < 10; i++ {
		fmt.Fprintf(&b, "subscribe victim%d@else.test\n", i)
	}
	s.deliver(t, queue.SubRequest, "dan@else.test", b.String())
	s.drain(t)
	n := 0
	for i := 0; i < 10; i++ {
		n += len(s.mailbox(t, fmt.Sprintf("victim%d@else.test", i)))
	}
	if n != 3 {
		t.Fatalf("%d confirmation requests sent", n)
	}
	if r := oneReply(t, s, "dan@else.test"); strings.Count(r, "refused: at most 3 confirmation requests") != 7 {
		t.Fatalf("reply:\n%s", r)
	}
}
