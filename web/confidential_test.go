package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/lists"
)

// TestAttackConfidentialListPagesAnswerLikeUnknown: against the daemon run
// as a process, every page and form under /lists/NAME/ answers a visitor
// and a logged-in non-member of a confidential list (advertised = false)
// exactly as it answers for a list that does not exist: same status, same
// redirect, same text but for the name. The list's name is also tried in
// the spellings the server folds (upper case, percent-encoded). Its member
// still reaches its pages.
func TestAttackConfidentialListPagesAnswerLikeUnknown(t *testing.T) {
	testdirs.Slow(t, "runs cloister web as a process (built from cmd/cloister)")
	ws := newWebSite(t, TLSFiles{})
	ws.addList(t, "secret@lists.test", func(s *lists.Settings) { s.Advertised = false; s.Archive = "private" }, &lists.Member{Address: "cat@subs.test"})
	base := ws.startDaemon(t)
	visitor := ws.browser(t)
	visitor.base = base
	visitor.get("/")
	bob := ws.browser(t)
	bob.base = base
	bob.login("bob@subs.test")
	gets := []string{"", "/archive", "/archive?view=thread", "/archive?q=x", "/archive/1", "/archive/1/part/0", "/key?kind=openpgp",
		"/admin", "/members", "/members/export?format=csv", "/held", "/held/x", "/keys", "/bounces", "/audit", "/admin/styles"}
	posts := []string{"/subscribe", "/unsubscribe", "/delivery", "/archive/1/mailme", "/admin/settings", "/admin/style", "/members/add",
		"/members/remove", "/members/import", "/held/x/approve", "/held/x/sendme", "/keys/add", "/keys/revoke"}
	for _, who := range []struct {
		name string
		b    *browser
	}{{"visitor", visitor}, {"non-member", bob}} {
		for _, name := range []string{"secret@lists.test", "SECRET@Lists.Test", "secret%40lists.test", "secret"} {
			for _, p := range gets {
				st, body := who.b.get("/lists/" + name + p)
				ust, ubody := who.b.get("/lists/nosuch" + name[len("secret"):] + p)
				if st != ust || unname(body) != unname(ubody) {
					t.Errorf("%s: GET /lists/%s%s answers %d, an unknown list %d:\n%s\n---\n%s", who.name, name, p, st, ust, body, ubody)
				}
			}
			for _, p := range posts {
				form := url.Values{"csrf": {who.b.csrfOr()}, "delivery": {"digest"}, "address": {"eve@evil.test"}}
				st, loc, body := who.b.post("/lists/"+name+p, form)
				form = url.Values{"csrf": {who.b.csrfOr()}, "delivery": {"digest"}, "address": {"eve@evil.test"}}
				ust, uloc, ubody := who.b.post("/lists/nosuch"+name[len("secret"):]+p, form)
				if st != ust || unname(loc) != unname(uloc) || unname(body) != unname(ubody) {
					t.Errorf("%s: POST /lists/%s%s answers %d %s, an unknown list %d %s:\n%s\n---\n%s", who.name, name, p, st, loc, ust, uloc, body, ubody)
				}
			}
		}
	}
	// The key forms name the list in a field.
	for _, p := range []string{"/me/key/challenge", "/me/key/verify"} {
		for _, name := range []string{"secret@lists.test", "SECRET@Lists.Test", "secret"} {
			form := url.Values{"csrf": {bob.csrfOr()}, "list": {name}, "key": {"x"}, "id": {"x"}}
			st, loc, body := bob.post(p, form)
			form.Set("list", "nosuch"+name[len("secret"):])
			ust, uloc, ubody := bob.post(p, form)
			if st != ust || unname(loc) != unname(uloc) || unname(body) != unname(ubody) {
				t.Errorf("non-member: POST %s list=%s answers %d %s, an unknown list %d %s:\n%s\n---\n%s", p, name, st, loc, ust, uloc, body, ubody)
			}
		}
	}
	cat := ws.browser(t)
	cat.base = base
	cat.login("cat@subs.test")
	if st, body := cat.get("/lists/secret@lists.test/archive"); st != http.StatusOK {
		t.Errorf("the member does not reach the archive of the confidential list: %d\n%s", st, body)
	}
	if st, body := cat.get("/lists/secret@lists.test"); st != http.StatusOK {
		t.Errorf("the member does not reach the page of the confidential list: %d\n%s", st, body)
	}
}

// unname folds the two list names the attack compares into one, and drops
// the one-time message a page shows after a login.
func unname(s string) string {
	s = flashLine.ReplaceAllString(s, "")
	return strings.NewReplacer("secret", "LIST", "SECRET", "LIST", "nosuch", "LIST").Replace(s)
}

var flashLine = regexp.MustCompile(`<p class="flash"[^\n]*</p>`)

// csrfOr returns the last page's CSRF token, or "" when it has none (a
// redirect or an error page without forms).
func (b *browser) csrfOr() string {
	if m := csrfField.FindStringSubmatch(b.last); m != nil {
		return m[1]
	}
	b.get("/")
	if m := csrfField.FindStringSubmatch(b.last); m != nil {
		return m[1]
	}
	return ""
}
