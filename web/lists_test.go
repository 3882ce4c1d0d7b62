package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"cloister/lists"
)

// addList creates a list with members and settings applied.
func (ws *webSite) addList(t *testing.T, addr string, set func(*lists.Settings), members ...*lists.Member) {
	t.Helper()
	err := ws.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList(addr, time.Now())
		if err != nil {
			return err
		}
		l.Description = "List " + addr
		if set != nil {
			set(&l.Settings)
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.AddMember(addr, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestDirectoryHidesConfidentialLists: a list with advertised = false is
// neither in the directory nor has a page for visitors and non-members
// (the same 404 as an unknown list); its members see it.
func TestDirectoryHidesConfidentialLists(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	ws.addList(t, "secret@lists.test", func(s *lists.Settings) { s.Advertised = false }, &lists.Member{Address: "cat@subs.test"})
	visitor := ws.browser(t)
	bob := ws.browser(t)
	bob.login("bob@subs.test")
	cat := ws.browser(t)
	cat.login("cat@subs.test")
	for _, tc := range []struct {
		name  string
		b     *browser
		shown bool
	}{{"visitor", visitor, false}, {"non-member", bob, false}, {"member", cat, true}} {
		t.Run(tc.name, func(t *testing.T) {
			_, home := tc.b.get("/")
			if !strings.Contains(home, "team@lists.test") {
				t.Errorf("the advertised list is missing from the directory:\n%s", home)
			}
			if got := strings.Contains(home, "secret@lists.test"); got != tc.shown {
				t.Errorf("confidential list in the directory: %v, want %v", got, tc.shown)
			}
			st, _ := tc.b.get("/lists/secret@lists.test")
			unknown, _ := tc.b.get("/lists/nosuch@lists.test")
			if tc.shown && st != http.StatusOK || !tc.shown && st != unknown {
				t.Errorf("page of the confidential list: %d (unknown list: %d)", st, unknown)
			}
		})
	}
}

// TestDeliveryChange: a subscriber logged in by email token changes their
// delivery mode on the /me page; the store has it.
func TestDeliveryChange(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	b := ws.browser(t)
	b.login("bob@subs.test")
	_, me := b.get("/me")
	if !strings.Contains(me, "team@lists.test") {
		t.Fatalf("/me does not list the subscription:\n%s", me)
	}
	tok := b.csrf()
	st, loc, body := b.post("/lists/team@lists.test/delivery", url.Values{"csrf": {tok}, "delivery": {"digest"}})
	if st != http.StatusSeeOther || loc != "/me" {
		t.Fatalf("delivery change: %d %s\n%s", st, loc, body)
	}
	if d := ws.delivery(t, "team@lists.test", "bob@subs.test"); d != "digest" {
		t.Fatalf("delivery %q, want digest", d)
	}
	// Nobody changes another member's delivery by naming them: the form
	// acts on the session's own address only.
	st, _, _ = b.post("/lists/team@lists.test/delivery", url.Values{"csrf": {tok}, "delivery": {"nomail"}, "address": {"cat@subs.test"}})
	if d := ws.delivery(t, "team@lists.test", "cat@subs.test"); d == "nomail" {
		t.Fatalf("bob changed cat's delivery (%d)", st)
	}
}

func (ws *webSite) delivery(t *testing.T, list, addr string) string {
	t.Helper()
	var d string
	err := ws.Lists.View(func(tx *lists.Tx) error {
		m, err := tx.Member(list, addr)
		if err != nil {
			return err
		}
		d = string(m.Delivery)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}
