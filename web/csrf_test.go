package web

import (
	"net/http"
	"net/url"
	"testing"
)

// TestCSRFEveryForm posts to every state-changing route of the table
// without the session's CSRF token and with another session's: each is
// refused with 403 before its handler runs.
func TestCSRFEveryForm(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	victim := ws.browser(t)
	victim.login("ann@subs.test")
	other := ws.browser(t)
	other.get("/login")
	foreign := other.csrf()
	n := 0
	for _, rt := range routeTable {
		if rt.method != "POST" {
			continue
		}
		n++
		for name, form := range map[string]url.Values{
			"no token":      {"address": {"bob@subs.test"}},
			"foreign token": {"csrf": {foreign}, "address": {"bob@subs.test"}},
		} {
			st, _, _ := victim.post(expand(rt.path), form)
			if st != http.StatusForbidden {
				t.Errorf("POST %s with %s: %d, want 403", rt.path, name, st)
			}
		}
	}
	if n == 0 {
		t.Fatal("no POST route in the table")
	}
	// Still logged in: the refused logout did not end the session.
	if st, _ := victim.get("/me"); st != http.StatusOK {
		t.Fatalf("the refused forms changed the session: /me %d", st)
	}
	ws.drain(t)
	if box := ws.mailbox(t, "bob@subs.test"); len(box) != 0 {
		t.Fatalf("a refused form sent %d mails", len(box))
	}
}

// expand fills a route pattern's wildcards with the test list.
func expand(p string) string {
	r := url.PathEscape("team@lists.test")
	out := ""
	for i := 0; i < len(p); i++ {
		if p[i] == '{' {
			j := i
			for j < len(p) && p[j] != '}' {
				j++
			}
			name := p[i+1 : j]
			switch name {
			case "list":
				out += r
			case "$":
			default:
				out += "x"
			}
			i = j
			continue
		}
		out += string(p[i])
	}
	return out
}
