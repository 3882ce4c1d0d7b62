package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestAttackLoginMailsFromRotatingIPv6: a client that asks for login mails
// from a new IPv6 address of its /64 at each request (for other and other
// addresses, so the per-address limit never bites) is held to the
// per-client limit (10 in 15 minutes) by the server's own handler; a
// client of another /64, or of another IPv4 address, is not.
func TestAttackLoginMailsFromRotatingIPv6(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	ask := func(remote, addr string) int {
		t.Helper()
		get := httptest.NewRequest("GET", "https://localhost/login", nil)
		get.RemoteAddr = remote
		rec := httptest.NewRecorder()
		ws.srv.ServeHTTP(rec, get)
		m := csrfField.FindStringSubmatch(rec.Body.String())
		cookies := rec.Result().Cookies()
		if m == nil || len(cookies) == 0 {
			t.Fatalf("login form from %s: %d\n%s", remote, rec.Code, rec.Body)
		}
		post := httptest.NewRequest("POST", "https://localhost/login", strings.NewReader(url.Values{"csrf": {m[1]}, "address": {addr}}.Encode()))
		post.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		post.RemoteAddr = remote
		post.AddCookie(cookies[0])
		rec = httptest.NewRecorder()
		ws.srv.ServeHTTP(rec, post)
		return rec.Code
	}
	for _, tc := range []struct {
		name   string
		remote func(i int) string
	}{
		{"one IPv6 /64, a new address each time", func(i int) string { return fmt.Sprintf("[2001:db8:1:2::%x]:4%03d", i+1, i) }},
		{"one IPv4 address", func(i int) string { return fmt.Sprintf("192.0.2.7:4%03d", i) }},
		{"IPv4-mapped IPv6", func(i int) string { return fmt.Sprintf("[::ffff:198.51.100.9]:4%03d", i) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := 0; i < 10; i++ {
				if st := ask(tc.remote(i), fmt.Sprintf("%s-%d@subs.test", strings.ReplaceAll(tc.name[:6], " ", ""), i)); st != http.StatusOK {
					t.Fatalf("login mail %d: %d", i+1, st)
				}
			}
			if st := ask(tc.remote(10), "eleventh-"+tc.name[:3]+"@subs.test"); st != http.StatusTooManyRequests {
				t.Fatalf("the 11th login mail from the same client: %d, want 429", st)
			}
		})
	}
	if st := ask("[2001:db8:1:3::1]:4000", "other64@subs.test"); st != http.StatusOK {
		t.Fatalf("a client of another /64: %d", st)
	}
}
