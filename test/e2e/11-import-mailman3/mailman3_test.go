// Package importmailman3 is the end-to-end suite of moving a list from a
// real Mailman 3 (Debian's package) to Cloister:
//
//	mailman create, addmembers; mailman start (REST only) + PATCH settings
//	  -> GET /3.1/lists/LIST/config, GET /3.1/members/find, mailman members
//	  -> cloister import mailman3 CONFIG.json --members ... --owners ...
//	  -> the list's settings and roster in Cloister
//
// Mailman runs from a private configuration (mailman -C) in the test's
// directory, with only its REST runner, on a free loopback port.
package importmailman3

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloister/internal/testdirs"
	"cloister/test/e2e/harness"
)

const list = "team@lists.example.test"

func TestImportMailman3List(t *testing.T) {
	testdirs.Slow(t, "end-to-end: a real Mailman 3 export")
	if _, err := exec.LookPath("mailman"); err != nil {
		t.Fatalf("mailman is not installed: run test/setup.sh (make test does)")
	}
	dir := harness.WorkDir(t)
	port := harness.FreePort(t)
	var off strings.Builder
	for _, r := range []string{"archive", "bounces", "command", "digest", "in", "lmtp", "nntp", "out", "pipeline", "retry", "virgin"} {
		fmt.Fprintf(&off, "[runner.%s]\nstart: no\n", r)
	}
	cfg := filepath.Join(dir, "mailman.cfg")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`[mailman]
site_owner: root@lists.example.test
layout: testing
[paths.testing]
var_dir: %[1]s/var
bin_dir: /usr/lib/mailman3/bin
pid_file: %[1]s/var/master.pid
[database]
class: mailman.database.sqlite.SQLiteDatabase
url: sqlite:///%[1]s/var/data/mailman.db
[webservice]
hostname: 127.0.0.1
port: %[2]d
admin_user: restadmin
admin_pass: restpass
[mta]
smtp_host: 127.0.0.1
smtp_port: 1
lmtp_port: %[3]d
%[4]s`, dir, port, harness.FreePort(t), off.String())), 0o644)
	mm := func(args ...string) string {
		t.Helper()
		return harness.Run(t, nil, "mailman", append([]string{"-C", cfg, "--run-as-root"}, args...)...)
	}
	mm("create", "-o", "ann@subs.test", list)
	roster := filepath.Join(dir, "add.txt")
	os.WriteFile(roster, []byte("Bob Builder <bob@subs.test>\ncarol@subs.test\n"), 0o644)
	mm("addmembers", roster, list)

	logf, _ := os.Create(filepath.Join(dir, "mailman-start.log"))
	start := exec.Command("mailman", "-C", cfg, "--run-as-root", "start")
	start.Stdout, start.Stderr = logf, logf
	if err := start.Run(); err != nil {
		t.Fatalf("mailman start: %v", err)
	}
	t.Cleanup(func() {
		exec.Command("mailman", "-C", cfg, "--run-as-root", "stop").Run()
		logf.Close()
	})
	base := "http://127.0.0.1:" + strconv.Itoa(port) + "/3.1"
	rest := func(method, path string, form url.Values) string {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(form.Encode()))
		req.SetBasicAuth("restadmin", "restpass")
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode >= 300 {
			t.Fatalf("%s %s: %s\n%s", method, path, resp.Status, b)
		}
		return string(b)
	}
	harness.Wait(t, 90*time.Second, "Mailman's REST API", func() bool {
		req, _ := http.NewRequest("GET", base+"/system/versions", nil)
		req.SetBasicAuth("restadmin", "restpass")
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		return err == nil && resp.StatusCode == 200
	})
	rest("PATCH", "/lists/"+list+"/config", url.Values{"subject_prefix": {"[Team] "}, "preferred_language": {"de"},
		"subscription_policy": {"moderate"}, "reply_goes_to_list": {"point_to_list"}, "max_message_size": {"512"}, "advertised": {"false"}})
	memberID := between(rest("GET", "/lists/"+list+"/member/bob@subs.test", nil), `"member_id": "`, `"`)
	rest("PATCH", "/members/"+memberID+"/preferences", url.Values{"delivery_mode": {"mime_digests"}})
	rest("POST", "/members", url.Values{"list_id": {"team.lists.example.test"}, "subscriber": {"mod@subs.test"}, "role": {"moderator"}})
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		return p
	}
	config := write("config.json", rest("GET", "/lists/"+list+"/config", nil))
	members := write("members.json", rest("GET", "/members/find?list_id=team.lists.example.test", nil))
	membersText := write("members.txt", mm("members", list))
	ownersText := write("owners.txt", mm("members", "--role", "owner", list))

	bins := harness.Build(t, filepath.Join(dir, "bin"))
	for name, args := range map[string][]string{
		"rest":  {"import", "mailman3", config, "--members", members},
		"texts": {"import", "mailman3", config, "--members", membersText, "--owners", ownersText},
	} {
		t.Run(name, func(t *testing.T) {
			state := filepath.Join(dir, "site-"+name)
			harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", "lists.example.test", "--smtp", "127.0.0.1:1")
			cl := func(args ...string) string {
				return harness.Run(t, []string{"CLOISTER_CONFIG=" + filepath.Join(state, "cloister.toml")}, bins.Cloister, args...)
			}
			out := cl(args...)
			if !strings.Contains(out, "imported list "+list) {
				t.Fatalf("import:\n%s", out)
			}
			show := cl("list", "show", list)
			for _, want := range []string{"[Team] ", "subscribe.owner", "approve"} {
				if !strings.Contains(show, want) {
					t.Errorf("list show lacks %q:\n%s", want, show)
				}
			}
			for _, kv := range [][2]string{{"language", "de"}, {"max_message_size_kb", "512"}, {"reply_to", "list"}, {"advertised", "no"}} {
				if !hasSetting(show, kv[0], kv[1]) {
					t.Errorf("list show: %s is not %s:\n%s", kv[0], kv[1], show)
				}
			}
			roster := cl("member", "ls", list)
			want := []string{"ann@subs.test    owner", "bob@subs.test    member", "carol@subs.test  member"}
			if name == "rest" {
				want = append(want, "bob@subs.test    member     digest   Bob Builder", "mod@subs.test    moderator")
			}
			for _, w := range want {
				if !strings.Contains(roster, w) {
					t.Errorf("member ls lacks %q:\n%s", w, roster)
				}
			}
		})
	}
}

// between returns the text of s between the first from and the next to.
func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}

// hasSetting tells whether `list show` prints setting name with value.
func hasSetting(show, name, value string) bool {
	for _, l := range strings.Split(show, "\n") {
		f := strings.Fields(l)
		if len(f) >= 2 && f[0] == name && f[1] == value {
			return true
		}
	}
	return false
}
