package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSecurityHeaders(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	b := ws.browser(t)
	for _, path := range []string{"/", "/login", "/login/token", "/no-such-page"} {
		resp, err := b.c.Get(ws.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		h := resp.Header
		csp := h.Get("Content-Security-Policy")
		for _, want := range []string{"default-src 'none'", "style-src 'self'", "form-action 'self'", "frame-ancestors 'none'"} {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: headers %v", path, h)
		}
		for _, c := range resp.Cookies() {
			if c.Name == cookieName && (!c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode) {
				t.Errorf("%s: session cookie %+v is not Secure, HttpOnly, SameSite=Strict", path, c)
			}
		}
	}
}

func TestLoginByEmailToken(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	b := ws.browser(t)
	b.login("bob@subs.test")
	if st, body := b.get("/me"); st != 200 || !strings.Contains(body, "bob@subs.test (md5)") {
		t.Fatalf("after login /me: %d\n%s", st, body)
	}
	// Logout ends the session: the cookie no longer opens /me.
	old := b.cookie()
	b.post("/logout", url.Values{"csrf": {b.csrf()}})
	b2 := ws.browser(t)
	b2.jar.SetCookies(mustURL(ws.ts.URL), []*http.Cookie{{Name: cookieName, Value: old, Path: "/"}})
	if st, _ := b2.get("/me"); st != http.StatusSeeOther {
		t.Errorf("the logged-out session still opens /me: %d", st)
	}
}

func TestLoginTokenSingleUse(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	b := ws.browser(t)
	b.askLogin("bob@subs.test")
	code := ws.lastCode(t, "bob@subs.test")
	b.get("/login/token")
	if st, _, _ := b.post("/login/token", url.Values{"csrf": {b.csrf()}, "code": {code}}); st != http.StatusSeeOther {
		t.Fatalf("first use refused: %d", st)
	}
	// The same code again, from another browser: refused.
	b2 := ws.browser(t)
	b2.get("/login/token")
	if st, _, _ := b2.post("/login/token", url.Values{"csrf": {b2.csrf()}, "code": {code}}); st != http.StatusForbidden {
		t.Fatalf("a used code logged in again: %d", st)
	}
	if st, _ := b2.get("/me"); st == http.StatusOK {
		t.Fatal("reused code opened /me")
	}
}

func TestLoginTokenExpires(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	b := ws.browser(t)
	b.askLogin("bob@subs.test")
	code := ws.lastCode(t, "bob@subs.test")
	ws.clock.add(loginTokenLife + time.Second)
	b.get("/login/token")
	if st, _, _ := b.post("/login/token", url.Values{"csrf": {b.csrf()}, "code": {code}}); st != http.StatusForbidden {
		t.Fatalf("an expired code logged in: %d", st)
	}
	if st, _ := b.get("/me"); st == http.StatusOK {
		t.Fatal("expired code opened /me")
	}
}

func TestSessionFixation(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	b := ws.browser(t)
	b.get("/login")
	planted := b.cookie() // an attacker's browser got this id and planted it in the victim's
	if planted == "" {
		t.Fatal("no anonymous session before login")
	}
	b.login("bob@subs.test")
	if b.cookie() == planted {
		t.Fatal("the session id was not rotated at login")
	}
	attacker := ws.browser(t)
	attacker.jar.SetCookies(mustURL(ws.ts.URL), []*http.Cookie{{Name: cookieName, Value: planted, Path: "/"}})
	if st, _ := attacker.get("/me"); st == http.StatusOK {
		t.Fatal("the id planted before the login is logged in")
	}
}

func TestSessionExpiry(t *testing.T) {
	for _, tc := range []struct {
		name  string
		steps []time.Duration // touches of /me at these intervals, all must work
		last  time.Duration   // then this long later the session is gone
	}{
		{"idle", nil, sessionIdle + time.Second},
		{"absolute", []time.Duration{25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute,
			25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute, 25 * time.Minute}, 25 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ws := newWebSite(t, TLSFiles{})
			b := ws.browser(t)
			b.login("bob@subs.test")
			for i, d := range tc.steps {
				ws.clock.add(d)
				if st, _ := b.get("/me"); st != http.StatusOK {
					t.Fatalf("step %d: session ended early: %d", i, st)
				}
			}
			ws.clock.add(tc.last)
			if st, _ := b.get("/me"); st == http.StatusOK {
				t.Fatal("the session outlived its expiry")
			}
		})
	}
}

func TestLoginRateLimit(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	b := ws.browser(t)
	b.get("/login")
	tok := b.csrf()
	var last int
	for i := 0; i < 4; i++ {
		last, _, _ = b.post("/login", url.Values{"csrf": {tok}, "address": {"bob@subs.test"}})
	}
	if last != http.StatusTooManyRequests {
		t.Fatalf("fourth login mail in a quarter hour: %d, want 429", last)
	}
	ws.drain(t)
	if n := len(ws.mailbox(t, "bob@subs.test")); n != 3 {
		t.Fatalf("%d login mails sent, want 3", n)
	}
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

// TestLoginLinkIgnoresHost: the link in a login mail is built from the
// configured base URL only. A request for a victim's login sent with the
// attacker's Host (and SNI) gets a mail whose link still names the site,
// and without a base URL the mail has no link at all.
func TestLoginLinkIgnoresHost(t *testing.T) {
	for _, base := range []string{"https://lists.example.test", ""} {
		t.Run("base "+base, func(t *testing.T) {
			ws := newWebSite(t, TLSFiles{})
			ws.srv.opts.BaseURL = base
			b := ws.browser(t)
			b.get("/login")
			req, err := http.NewRequest("POST", ws.ts.URL+"/login", strings.NewReader(url.Values{"csrf": {b.csrf()}, "address": {"bob@subs.test"}}.Encode()))
			if err != nil {
				t.Fatal(err)
			}
			req.Host = "evil.example"
			req.AddCookie(&http.Cookie{Name: cookieName, Value: b.cookie()})
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			resp, err := b.c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("login mail: %d", resp.StatusCode)
			}
			ws.drain(t)
			box := ws.mailbox(t, "bob@subs.test")
			if len(box) != 1 {
				t.Fatalf("%d mails", len(box))
			}
			mail := string(box[0])
			if strings.Contains(mail, "evil.example") {
				t.Fatalf("the login mail links to the asker's host:\n%s", mail)
			}
			if hasLink := strings.Contains(mail, "/login/token?code="); hasLink != (base != "") ||
				base != "" && !strings.Contains(mail, base+"/login/token?code=") {
				t.Fatalf("link in the mail (base %q):\n%s", base, mail)
			}
			if !codeLine.MatchString(mail) {
				t.Fatalf("no code in the mail:\n%s", mail)
			}
		})
	}
}
