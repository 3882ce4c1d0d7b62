package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestAttackHugeFormBeforeLogin: against the daemon run as a process, a
// form posted before a login (the login form, with its valid CSRF token)
// larger than a login form needs is refused as too large and does
// nothing (no login mail); the same form at its normal size works, and a
// logged-in session still posts a large member import.
func TestAttackHugeFormBeforeLogin(t *testing.T) {
	testdirs.Slow(t, "runs cloister web as a process (built from cmd/cloister)")
	ws := newWebSite(t, TLSFiles{})
	ws.setSetting(t, "team@lists.test", "admin", "admin.owner_confirmed")
	base := ws.startDaemon(t)
	b := ws.browser(t)
	b.base = base
	b.get("/login")
	st, _, body := b.post("/login", url.Values{"csrf": {b.csrf()}, "address": {"dan@subs.test"}, "pad": {strings.Repeat("x", 1<<20)}})
	if st != http.StatusRequestEntityTooLarge {
		t.Errorf("a 1 MiB login form: %d, want 413\n%s", st, body)
	}
	ws.drain(t)
	if n := len(ws.mailbox(t, "dan@subs.test")); n != 0 {
		t.Errorf("the oversized login form sent %d login mails", n)
	}
	ann := ws.browser(t)
	ann.base = base
	ann.login("ann@subs.test")
	var csv strings.Builder
	for i := 0; csv.Len() < 1<<20; i++ {
		csv.WriteString("m" + strings.Repeat("0", 6-len(itoa(i))) + itoa(i) + "@subs.test,Member " + itoa(i) + "\n")
	}
	st, _, body = ann.post("/lists/team@lists.test/members/import", url.Values{"csrf": {ann.csrfOf("/lists/team@lists.test/members")}, "format": {"csv"}, "dry_run": {"yes"}, "data": {csv.String()}})
	if st != http.StatusOK {
		t.Errorf("a logged-in owner's 1 MiB import (dry run): %d\n%.2000s", st, body)
	}
}

func itoa(i int) string {
	const d = "0123456789"
	if i < 10 {
		return d[i : i+1]
	}
	return itoa(i/10) + d[i%10:i%10+1]
}
