package runners

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"cloister/lists"
	"cloister/moderation"
	"cloister/queue"
)

// sympaExample is the scenario from Sympa's documentation quoted in the
// issue, verbatim.
const sympaExample = `is_subscriber (spammer,[sender]) smtp,smime -> reject,quiet
match([header->Content-type],/multipart\/alternative/) smtp -> reject
match([header->Content-type],/multipart/) smtp,smime -> editorkey
!is_subscriber ([listname],[sender]) smtp -> request_auth
!is_subscriber ([listname],[sender]) md5,smime -> do_it
true() smtp,smime -> do_it
`

// TestSympaExampleScenarioThroughRunners runs posts through the runners
// under Sympa's example scenario, installed as a site scenario: a member of
// the list "spammer" (a bare name: spammer@ the site's domain) is dropped
// without a word, multipart/alternative is rejected, other multiparts are
// held, a non-subscriber confirms and is accepted, a subscriber posts.
func TestSympaExampleScenarioThroughRunners(t *testing.T) {
	s := newTestSite(t)
	dir := t.TempDir()
	writeScenario(t, dir, "send.sympa_example", sympaExample)
	s.Config.ScenarioDir = dir
	setSetting(t, s, "send", "send.sympa_example")
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList("spammer@lists.test", time.Now())
		if err != nil {
			return err
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		return tx.AddMember(l.Address, &lists.Member{Address: "junk@else.test"})
	})
	if err != nil {
		t.Fatal(err)
	}
	msg := func(from, ctype, marker string) string {
		body := marker + "\n"
		if strings.HasPrefix(ctype, "multipart/") {
			body = "--b\nContent-Type: text/plain\n\n" + marker + "\n--b--\n"
		}
		return "From: " + from + "\nTo: team@lists.test\nSubject: " + marker + "\nContent-Type: " + ctype + "\n\n" + body
	}
	s.deliver(t, queue.SubPost, "junk@else.test", msg("junk@else.test", "text/plain", "SPAM-POST"))
	s.deliver(t, queue.SubPost, "bob@subs.test", msg("bob@subs.test", "multipart/alternative; boundary=b", "ALT-POST"))
	s.deliver(t, queue.SubPost, "cat@subs.test", msg("cat@subs.test", "multipart/mixed; boundary=b", "MIXED-POST"))
	s.deliver(t, queue.SubPost, "dan@else.test", msg("dan@else.test", "text/plain", "OUTSIDER-POST"))
	s.deliver(t, queue.SubPost, "bob@subs.test", msg("bob@subs.test", "text/plain", "MEMBER-POST"))
	s.drain(t)

	if box := s.mailbox(t, "junk@else.test"); len(box) != 0 {
		t.Errorf("the quietly rejected spammer got %q", box)
	}
	bob := s.mailbox(t, "bob@subs.test")
	var rejected, member bool
	for _, m := range bob {
		rejected = rejected || bytes.Contains(m, []byte("Subject: Your post to team@lists.test was rejected")) && bytes.Contains(m, []byte("ALT-POST"))
		member = member || bytes.Contains(m, []byte("Subject: [team] MEMBER-POST"))
	}
	if !rejected || !member || len(bob) != 2 {
		t.Fatalf("bob's mailbox (want the alternative's rejection and his own post): %q", bob)
	}
	held := heldPosts(t, s)
	if len(held) != 2 {
		t.Fatalf("held = %+v, want the multipart/mixed post and the outsider's", held)
	}
	for _, h := range held {
		switch h.Sender {
		case "cat@subs.test":
			if !strings.Contains(h.Reason, "moderators approve") {
				t.Errorf("cat's post held for %q", h.Reason)
			}
		case "dan@else.test":
			if !strings.Contains(h.Reason, "waiting for the sender to confirm") {
				t.Errorf("dan's post held for %q", h.Reason)
			}
		default:
			t.Errorf("unexpected held post %+v", h)
		}
	}
	if err := moderation.ConfirmPost(s.Site, replyToken(t, oneMessage(t, s, "dan@else.test"))); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	var outsider bool
	for _, m := range s.mailbox(t, "cat@subs.test") {
		outsider = outsider || bytes.Contains(m, []byte("OUTSIDER-POST"))
		if bytes.Contains(m, []byte("SPAM-POST")) || bytes.Contains(m, []byte("ALT-POST")) {
			t.Errorf("cat received a refused post:\n%s", m)
		}
	}
	if !outsider {
		t.Fatalf("the confirmed outsider's post was not distributed")
	}
	if h := heldPosts(t, s); len(h) != 1 || h[0].Sender != "cat@subs.test" {
		t.Fatalf("held = %+v", h)
	}
}
