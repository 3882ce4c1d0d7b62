package web

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"cloister/internal/testdirs"
)

// TestWebMailsRateLimited: every form that makes Cloister send mail counts
// against the session address's budget, so a logged-in session cannot turn
// the site into a mail cannon: a member toggling a subscription (each
// subscribe mails a confirmation) is stopped at the eleventh mail in an
// hour, and an owner adding members with a welcome at the hundred and
// first, with nothing sent past the limit.
func TestWebMailsRateLimited(t *testing.T) {
	testdirs.Slow(t, "sends over a hundred mails through the web forms")
	t.Run("member", func(t *testing.T) {
		ws := newWebSite(t, TLSFiles{})
		b := ws.browser(t)
		b.login("dan@else.test")
		b.get("/me")
		tok := b.csrf()
		var st, allowed int
		for i := 0; i < 11; i++ {
			path := "/lists/team@lists.test/subscribe"
			if i%2 == 1 {
				path = "/lists/team@lists.test/unsubscribe"
			}
			st, _, _ = b.post(path, url.Values{"csrf": {tok}})
			if st == http.StatusTooManyRequests {
				break
			}
			allowed++
		}
		if st != http.StatusTooManyRequests || allowed != 10 {
			t.Fatalf("%d requests allowed, last answer %d; want 10 then 429", allowed, st)
		}
	})
	t.Run("owner", func(t *testing.T) {
		cs := newCertSite(t)
		b := cs.certLogin(t, cs.ann)
		tok := b.csrfOf("/lists/team@lists.test/members")
		var st int
		added := 0
		for i := 0; i < 101; i++ {
			addr := fmt.Sprintf("new%d@else.test", i)
			st, _, _ = b.post("/lists/team@lists.test/members/add", url.Values{"csrf": {tok}, "address": {addr}, "welcome": {"yes"}})
			if st == http.StatusTooManyRequests {
				break
			}
			if !cs.isMember("team@lists.test", addr) {
				t.Fatalf("add %s: %d, not a member", addr, st)
			}
			added++
		}
		if st != http.StatusTooManyRequests || added != 100 {
			t.Fatalf("%d welcomed additions allowed, last answer %d; want 100 then 429", added, st)
		}
		if cs.isMember("team@lists.test", "new100@else.test") {
			t.Fatal("the refused addition was made")
		}
		// Without a welcome nothing is mailed, and the budget does not apply.
		if st, _, _ := b.post("/lists/team@lists.test/members/add", url.Values{"csrf": {tok}, "address": {"quiet@else.test"}}); !cs.isMember("team@lists.test", "quiet@else.test") {
			t.Fatalf("an addition without a welcome was refused: %d", st)
		}
	})
}
