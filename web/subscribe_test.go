package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloister/queue"
)

var confirmRE = regexp.MustCompile(`(?m)^Reply-To: team-confirm\+([a-z2-7]+)@lists\.test$`)

// confirmByMail answers the last confirmation request in addr's mailbox
// by mail, as a mail client's reply reaches the list's confirm address,
// and runs the runners.
func (ws *webSite) confirmByMail(t *testing.T, addr string) {
	t.Helper()
	ws.drain(t)
	box := ws.mailbox(t, addr)
	var tok string
	for _, m := range box {
		if s := confirmRE.FindSubmatch(m); s != nil {
			tok = string(s[1])
		}
	}
	if tok == "" {
		t.Fatalf("no confirmation request in %s's mailbox: %q", addr, box)
	}
	m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubConfirm, Extension: tok, Sender: addr,
		Recipient: "team-confirm+" + tok + "@lists.test", Received: time.Now().UTC()}
	msg := "From: " + addr + "\nTo: team-confirm+" + tok + "@lists.test\nSubject: Re: confirm\n\nyes\n"
	if _, err := ws.Queue(queue.In).Enqueue(m, strings.NewReader(msg), 0); err != nil {
		t.Fatal(err)
	}
	ws.drain(t)
}

// TestSubscribeConfirmByMail: a visitor logged in by email token asks to
// join a list whose subscribe_policy is confirm; nothing happens until the
// confirmation mailed to them is answered, as for a request by mail; then
// unsubscribing goes through the list's unsubscribe scenario, which does
// it at once for the md5 method.
func TestSubscribeConfirmByMail(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	b := ws.browser(t)
	b.login("dan@subs.test")
	_, page := b.get("/lists/team@lists.test")
	if !strings.Contains(page, `action="/lists/team@lists.test/subscribe"`) {
		t.Fatalf("no subscribe form:\n%s", page)
	}
	st, loc, body := b.post("/lists/team@lists.test/subscribe", url.Values{"csrf": {b.csrf()}, "name": {"Dan"}})
	if st != http.StatusSeeOther || loc != "/lists/team@lists.test" {
		t.Fatalf("subscribe: %d %s\n%s", st, loc, body)
	}
	_, page = b.get(loc)
	if !strings.Contains(page, "confirmation request was sent") {
		t.Fatalf("the page does not say a confirmation was mailed:\n%s", page)
	}
	if ws.isMember("team@lists.test", "dan@subs.test") {
		t.Fatal("subscribed before the confirmation")
	}
	ws.confirmByMail(t, "dan@subs.test")
	if !ws.isMember("team@lists.test", "dan@subs.test") {
		t.Fatal("not subscribed after the confirmation")
	}
	_, page = b.get("/lists/team@lists.test")
	if !strings.Contains(page, `action="/lists/team@lists.test/unsubscribe"`) {
		t.Fatalf("no unsubscribe form for a member:\n%s", page)
	}
	st, _, _ = b.post("/lists/team@lists.test/unsubscribe", url.Values{"csrf": {b.csrf()}})
	if st != http.StatusSeeOther {
		t.Fatalf("unsubscribe: %d", st)
	}
	// unsubscribe.confirm does it at once for an md5 actor: the login
	// token proved the address, as a confirmed mail does.
	if ws.isMember("team@lists.test", "dan@subs.test") {
		t.Fatal("still subscribed after unsubscribing")
	}
}
