package api_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloister/internal/testdirs"
)

// TestBadRequests sends what a broken or hostile client sends, over both
// transports, and checks each is refused with the right JSON error.
func TestBadRequests(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	adminTok := s.token("site:admin")
	daemons := map[string]*daemon{
		"unix": s.startDaemon("--socket", s.dir+"/api.sock", "--max-body-kb", "16"),
		"tls":  s.startDaemon("--listen", "127.0.0.1:0", "--max-body-kb", "16"),
	}
	big := `{"settings":{"subject_prefix":"` + strings.Repeat("x", 20<<10) + `"}}`
	tests := []struct {
		name       string
		token      string
		method     string
		path       string
		ct         string
		body       string
		wantStatus int
		wantCode   string
	}{
		{"bad JSON", adminTok, "POST", "/v1/lists", "application/json", `{"address":`, 400, "invalid"},
		{"not JSON at all", adminTok, "POST", "/v1/lists", "application/json", `address=x`, 400, "invalid"},
		{"unknown field", adminTok, "POST", "/v1/lists", "application/json", `{"address":"u@lists.test","owner":"x"}`, 400, "invalid"},
		{"wrong field type", adminTok, "POST", "/v1/lists", "application/json", `{"address":7}`, 400, "invalid"},
		{"two JSON values", adminTok, "POST", "/v1/lists", "application/json", `{"address":"t@lists.test"}{}`, 400, "invalid"},
		{"empty body", adminTok, "POST", "/v1/lists", "application/json", ``, 400, "invalid"},
		{"body where none is taken", adminTok, "GET", "/v1/lists", "application/json", `{"x":1}`, 400, "invalid"},
		{"wrong content type", adminTok, "POST", "/v1/lists", "text/plain", `{"address":"c@lists.test"}`, 400, "invalid"},
		{"oversized body", adminTok, "PATCH", "/v1/lists/team@lists.test/settings", "application/json", big, 413, "too_large"},
		{"oversized import", adminTok, "POST", "/v1/lists/team@lists.test/members/import", "text/csv", strings.Repeat("a@subs.test\n", 2000), 413, "too_large"},
		{"wrong method on a list", adminTok, "PUT", "/v1/lists/team@lists.test", "", "", 405, "method_not_allowed"},
		{"wrong method on the directory", adminTok, "DELETE", "/v1/lists", "", "", 405, "method_not_allowed"},
		{"unknown path", adminTok, "GET", "/v1/nothing", "", "", 404, "not_found"},
		{"unknown list", adminTok, "GET", "/v1/lists/nope@lists.test", "", "", 404, "not_found"},
		{"list address with a trailing dot", adminTok, "GET", "/v1/lists/team@lists.test.", "", "", 400, "invalid"},
		{"list address with a NUL", adminTok, "GET", "/v1/lists/team%00@lists.test", "", "", 400, "invalid"},
		{"list address with an encoded slash", adminTok, "GET", "/v1/lists/team@lists.test%2F..%2Fother@lists.test/members", "", "", 400, "invalid"},
		{"delete a bad list address", adminTok, "DELETE", "/v1/lists/team@lists.test.", "", "", 400, "invalid"},
		{"held posts of a bad list address", adminTok, "GET", "/v1/lists/team@lists.test./held", "", "", 400, "invalid"},
		{"control characters in a list's description", adminTok, "POST", "/v1/lists", "application/json", `{"address":"n1@lists.test","description":"a\r\nBcc: e@x.test"}`, 400, "invalid"},
		{"control characters in a member's name", adminTok, "POST", "/v1/lists/team@lists.test/members", "application/json", `{"address":"z@subs.test","name":"Z\r\nBcc: e@x.test"}`, 400, "invalid"},
		{"a NUL in a member's name", adminTok, "POST", "/v1/lists/team@lists.test/members", "application/json", `{"address":"z@subs.test","name":"Z\u0000"}`, 400, "invalid"},
		{"bad setting value", adminTok, "PATCH", "/v1/lists/team@lists.test/settings", "application/json", `{"settings":{"pgp_post_encrypt":"maybe"}}`, 400, "invalid"},
		{"no token", "", "GET", "/v1/lists", "", "", 401, "unauthenticated"},
		{"malformed token", "secret", "GET", "/v1/lists", "", "", 401, "unauthenticated"},
		{"unknown token", "cloister_" + strings.Repeat("A", 43), "GET", "/v1/lists", "", "", 401, "unauthenticated"},
	}
	for _, transport := range []string{"unix", "tls"} {
		d := daemons[transport]
		for _, tt := range tests {
			t.Run(transport+"/"+tt.name, func(t *testing.T) {
				r := d.do(t, tt.token, tt.method, tt.path, tt.ct, []byte(tt.body))
				if r.status != tt.wantStatus || r.errorCode() != tt.wantCode {
					t.Fatalf("= %d %s, want %d %s", r.status, r.body, tt.wantStatus, tt.wantCode)
				}
				if ct := r.header.Get("Content-Type"); ct != "application/json" {
					t.Fatalf("Content-Type %q", ct)
				}
			})
		}
		t.Run(transport+"/basic auth refused", func(t *testing.T) {
			req, _ := http.NewRequest("GET", d.base+"/v1/lists", nil)
			req.SetBasicAuth("admin", adminTok)
			resp, err := d.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 401 {
				t.Fatalf("Basic auth = %d", resp.StatusCode)
			}
		})
	}
	// An empty list is [], not null.
	if r := daemons["unix"].do(t, adminTok, "GET", "/v1/lists/team@lists.test/members", "", nil); r.status != 200 || strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("no members = %d %s", r.status, r.body)
	}
	// The daemon survived all of it and still serves.
	for name, d := range daemons {
		if r := d.do(t, adminTok, "GET", "/v1/lists", "", nil); r.status != 200 {
			t.Fatalf("%s: after the bad requests: %d %s", name, r.status, r.body)
		}
	}
}

// TestAuthFailuresRateLimited fails authentication past the limit, over the
// Unix socket (clients told apart by peer uid) and over TLS (by IP): the
// client is refused even with a good token, the failures are logged with
// the client, and no presented secret appears in the log.
func TestAuthFailuresRateLimited(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	good := s.token("site:admin")
	bad := "cloister_" + strings.Repeat("B", 43)
	transports := []struct {
		name, client string
		args         []string
	}{
		{"unix", "client=uid:", []string{"--socket", s.dir + "/api.sock"}},
		{"tls", "client=ip:127.0.0.1", []string{"--listen", "127.0.0.1:0"}},
	}
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			d := s.startDaemon(append(tr.args, "--auth-failures", "3")...)
			for i := range 3 {
				if r := d.do(t, bad, "GET", "/v1/lists", "", nil); r.status != 401 {
					t.Fatalf("failure %d: %d %s", i, r.status, r.body)
				}
			}
			r := d.do(t, good, "GET", "/v1/lists", "", nil)
			if r.status != http.StatusTooManyRequests || r.errorCode() != "rate_limited" || r.header.Get("Retry-After") == "" {
				t.Fatalf("after 3 failures a good token got %d %s", r.status, r.body)
			}
			d.stop(t)
			logs := d.logs.String()
			if strings.Count(logs, "api authentication failed") != 3 || !strings.Contains(logs, tr.client) {
				t.Fatalf("failures not logged with the client (%s):\n%s", tr.client, logs)
			}
			for _, secret := range []string{bad, good, strings.TrimPrefix(bad, "cloister_"), strings.TrimPrefix(good, "cloister_")} {
				if strings.Contains(logs, secret) {
					t.Fatalf("the log holds a token:\n%s", logs)
				}
			}
		})
	}

	// A restarted daemon keeps the count (in cloister.db): the client is
	// still refused, on the socket and over TLS alike.
	for _, tr := range transports {
		d2 := s.startDaemon(append(tr.args, "--auth-failures", "3")...)
		if r := d2.do(t, good, "GET", "/v1/lists", "", nil); r.status != http.StatusTooManyRequests || r.errorCode() != "rate_limited" {
			t.Fatalf("%s: good token right after a restart: %d %s", tr.name, r.status, r.body)
		}
		d2.stop(t)
	}
}

// TestTokenRevocation revokes a token while the daemon runs and
// checks that the next request is refused.
func TestTokenRevocation(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	tok := s.token("site:admin")
	d := s.startDaemon("--socket", s.dir+"/api.sock")
	if r := d.do(t, tok, "GET", "/v1/lists", "", nil); r.status != 200 {
		t.Fatalf("before revocation: %d %s", r.status, r.body)
	}
	list := s.run("token", "list", "--json")
	id := strings.SplitN(strings.SplitN(list, `"id": "`, 2)[1], `"`, 2)[0]
	if strings.Contains(list, tok) || strings.Contains(list, "hash") {
		t.Fatalf("token list shows a secret or hash:\n%s", list)
	}
	if !strings.Contains(list, `"last_used"`) {
		t.Fatalf("token list shows no last use:\n%s", list)
	}
	s.run("token", "revoke", id)
	if r := d.do(t, tok, "GET", "/v1/lists", "", nil); r.status != 401 {
		t.Fatalf("after revocation: %d %s", r.status, r.body)
	}
}

// TestTokensInBackup backs up a site, restores it into a fresh state
// directory and serves it: the token made before the backup still works,
// and one revoked before it does not.
func TestTokensInBackup(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	kept := s.token("site:admin")
	gone := s.token("list:team@lists.test:read")
	var toks []struct {
		ID     string
		Scopes []string
	}
	if err := json.Unmarshal([]byte(s.run("token", "list", "--json")), &toks); err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if tk.Scopes[0] != "site:admin" {
			s.run("token", "revoke", tk.ID)
		}
	}
	bk := filepath.Join(t.TempDir(), "bk")
	s.run("backup", bk)

	dir := t.TempDir()
	fresh := &site{t: t, dir: dir, config: filepath.Join(dir, "state", "cloister.toml")}
	fresh.run("init", "--state-dir", filepath.Join(dir, "state"), "--domain", "lists.test", "--smtp", "127.0.0.1:1")
	fresh.run("restore", bk)
	d := fresh.startDaemon("--socket", dir+"/api.sock")
	if r := d.do(t, kept, "GET", "/v1/lists/team@lists.test", "", nil); r.status != 200 {
		t.Fatalf("restored token: %d %s", r.status, r.body)
	}
	if r := d.do(t, gone, "GET", "/v1/lists/team@lists.test", "", nil); r.status != 401 {
		t.Fatalf("token revoked before the backup: %d %s", r.status, r.body)
	}
}

// TestDaemonRefusesBadSetups starts the daemon wrongly: each attempt exits
// with a clear error instead of serving.
func TestDaemonRefusesBadSetups(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	notSocket := filepath.Join(s.dir, "plain-file")
	if err := os.WriteFile(notSocket, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	live := filepath.Join(s.dir, "live.sock")
	s.startDaemon("--socket", live)
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"not loopback", []string{"--listen", "0.0.0.0:0"}, "loopback"},
		{"cert without key", []string{"--listen", "127.0.0.1:0", "--cert", notSocket}, "go together"},
		{"cert on the socket", []string{"--cert", notSocket, "--key", notSocket}, "need --listen"},
		{"a file in the socket's place", []string{"--socket", notSocket}, "not a socket"},
		{"a daemon already listening", []string{"--socket", live}, "another daemon"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, err := s.runErr(nil, append([]string{"api"}, tt.args...)...)
			if err == nil || !strings.Contains(errOut, tt.want) {
				t.Fatalf("cloister api %v: %v\n%s%s", tt.args, err, out, errOut)
			}
		})
	}
	if b, _ := os.ReadFile(notSocket); string(b) != "x" {
		t.Fatal("the daemon replaced a regular file with its socket")
	}
	fi, err := os.Stat(live)
	if err != nil || fi.Mode().Perm() != 0o660 {
		t.Fatalf("socket mode: %v %v", fi.Mode(), err)
	}
}

// TestGracefulStop sends SIGTERM while a request's body is still coming
// (the handler has asked for it: 100 Continue): the daemon stops taking
// connections at once, finishes that request, and exits cleanly.
func TestGracefulStop(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	tok := s.token("site:admin")
	sock := filepath.Join(s.dir, "api.sock")
	d := s.startDaemon("--socket", sock)
	conn, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	first, second := "first@subs.test\n", "second@subs.test\n"
	fmt.Fprintf(conn, "POST /v1/lists/team@lists.test/members/import HTTP/1.1\r\nHost: cloister\r\n"+
		"Authorization: Bearer %s\r\nContent-Type: text/csv\r\nContent-Length: %d\r\nExpect: 100-continue\r\n\r\n",
		tok, len(first)+len(second))
	br := bufio.NewReader(conn)
	line, err := br.ReadString('\n')
	if err != nil || !strings.HasPrefix(line, "HTTP/1.1 100") {
		t.Fatalf("no 100 Continue: %q %v", line, err)
	}
	br.ReadString('\n') // the blank line after it
	conn.Write([]byte(first))
	d.cmd.Process.Signal(syscall.SIGTERM)
	// The listener closes: new connections are refused.
	for {
		c, err := net.Dial("unix", sock)
		if err != nil {
			break
		}
		c.Close()
		time.Sleep(20 * time.Millisecond)
	}
	conn.Write([]byte(second))
	resp, err := http.ReadResponse(br, nil)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("the request under way: %v %v\n%s", resp, err, d.logs)
	}
	resp.Body.Close()
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", err, d.logs)
	}
	if out := s.run("member", "ls", "team@lists.test"); !strings.Contains(out, "second@subs.test") {
		t.Fatalf("the import under way was not finished:\n%s", out)
	}
}
