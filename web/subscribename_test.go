package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestAttackSubscribeNameWithLineBreak: against the daemon run as a
// process, a subscription asked with a display name that carries a line
// break and header fields is refused at once (400) with a clear error, and
// no confirmation is mailed for it; a plain name is asked as usual.
func TestAttackSubscribeNameWithLineBreak(t *testing.T) {
	testdirs.Slow(t, "runs cloister web as a process (built from cmd/cloister)")
	ws := newWebSite(t, TLSFiles{})
	base := ws.startDaemon(t)
	b := ws.browser(t)
	b.base = base
	b.login("dan@subs.test")
	before := len(ws.mailbox(t, "dan@subs.test"))
	st, _, body := b.post("/lists/team@lists.test/subscribe", url.Values{"csrf": {b.csrfOf("/lists/team@lists.test")}, "name": {"Eve\r\nBcc: victim@evil.test"}})
	if st != http.StatusBadRequest || !strings.Contains(body, "name is not accepted") {
		t.Errorf("a name with a line break: %d\n%s", st, body)
	}
	ws.drain(t)
	if n := len(ws.mailbox(t, "dan@subs.test")) - before; n != 0 {
		t.Errorf("%d confirmation mails for a subscription that cannot be stored", n)
	}
	if n := len(ws.mailbox(t, "victim@evil.test")); n != 0 {
		t.Errorf("%d mails to the address of the injected field", n)
	}
	st, loc, body := b.post("/lists/team@lists.test/subscribe", url.Values{"csrf": {b.csrfOf("/lists/team@lists.test")}, "name": {"Dan"}})
	ws.drain(t)
	if st != http.StatusSeeOther || loc != "/lists/team@lists.test" || len(ws.mailbox(t, "dan@subs.test"))-before != 1 {
		t.Errorf("a plain name: %d %s, %d mails\n%s", st, loc, len(ws.mailbox(t, "dan@subs.test"))-before, body)
	}
}
