package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestAttackLoginAnswersAlikeForEveryAddress: against the daemon run as a
// process, asking for a login mail answers the same (status and page, but
// for the address) for a member, a member whose login mail goes encrypted
// to her bound key, an owner and an address the site does not know; and a
// code answers the same whether it is unknown, used, or a code of another
// address's: nobody learns from the login pages who is subscribed.
func TestAttackLoginAnswersAlikeForEveryAddress(t *testing.T) {
	testdirs.Slow(t, "runs cloister web as a process (built from cmd/cloister)")
	ws := newWebSite(t, TLSFiles{})
	h := gnupg.New(t)
	fpr := h.GenKey("Cat <cat@subs.test>", "cv25519")
	if _, err := ws.keys.AddOpenPGP("cat@subs.test", h.ExportPublic(fpr), true); err != nil {
		t.Fatal(err)
	}
	base := ws.startDaemon(t)
	answer := func(addr string) (int, string) {
		b := ws.browser(t)
		b.base = base
		b.get("/login")
		st, _, body := b.post("/login", url.Values{"csrf": {b.csrf()}, "address": {addr}})
		return st, strings.ReplaceAll(csrfField.ReplaceAllString(body, ""), addr, "ADDRESS")
	}
	wantSt, want := answer("nobody@nowhere.test")
	if wantSt != http.StatusOK {
		t.Fatalf("an unknown address: %d\n%s", wantSt, want)
	}
	for _, addr := range []string{"bob@subs.test", "cat@subs.test", "ann@subs.test"} {
		if st, body := answer(addr); st != wantSt || body != want {
			t.Errorf("%s: %d, an unknown address %d:\n%s\n---\n%s", addr, st, wantSt, body, want)
		}
	}

	b := ws.browser(t)
	b.base = base
	b.login("bob@subs.test")
	used := ws.lastCode(t, "bob@subs.test")
	codeAnswer := func(code string) (int, string) {
		v := ws.browser(t)
		v.base = base
		v.get("/login/token")
		st, _, body := v.post("/login/token", url.Values{"csrf": {v.csrf()}, "code": {code}})
		return st, csrfField.ReplaceAllString(body, "")
	}
	unSt, unknown := codeAnswer("aaaaaaaaaaaaaaaaaaaaaaaa")
	if unSt != http.StatusForbidden {
		t.Fatalf("an unknown code: %d", unSt)
	}
	if st, body := codeAnswer(used); st != unSt || body != unknown {
		t.Errorf("a used code: %d, an unknown one %d:\n%s\n---\n%s", st, unSt, body, unknown)
	}
}
