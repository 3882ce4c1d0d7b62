package api_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestHeldLifecycle holds three posts and has a moderator token approve,
// reject and discard them through the daemon; each decision goes through
// the moderation code (the approved post moves on to the pipeline queue,
// the rejected one leaves a notice for its author) and is audited.
func TestHeldLifecycle(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	s.moderate("team@lists.test", "ann@subs.test")
	ids := map[string]string{}
	for _, subj := range []string{"to approve", "to reject", "to discard"} {
		ids[subj] = s.hold("team@lists.test", "ann@subs.test", subj)
	}
	mod := s.token("list:team@lists.test:moderator")
	d := s.startDaemon("--listen", "127.0.0.1:0")

	r := d.do(t, mod, "GET", "/v1/lists/team@lists.test/held", "", nil)
	var list []struct{ ID, Subject, Sender string }
	if r.status != 200 || json.Unmarshal(r.body, &list) != nil || len(list) != 3 {
		t.Fatalf("held list = %d %s", r.status, r.body)
	}
	r = d.do(t, mod, "GET", "/v1/lists/team@lists.test/held/"+ids["to approve"], "", nil)
	var post struct {
		Subject, Headers, Text string
		Encrypted              bool
	}
	if r.status != 200 || json.Unmarshal(r.body, &post) != nil || post.Subject != "to approve" ||
		!strings.Contains(post.Headers, "Subject: to approve") || !strings.Contains(post.Text, "Hello.") || post.Encrypted {
		t.Fatalf("held show = %d %s\n%s", r.status, r.body, d.logs)
	}
	pipelineBefore := queueFiles(t, s, "pipeline")
	outBefore := queueFiles(t, s, "out")
	steps := []struct{ subj, verb, body string }{
		{"to approve", "approve", ""},
		{"to reject", "reject", `{"reason":"off topic"}`},
		{"to discard", "discard", ""},
	}
	for _, st := range steps {
		ct := ""
		if st.body != "" {
			ct = "application/json"
		}
		if r := d.do(t, mod, "POST", "/v1/lists/team@lists.test/held/"+ids[st.subj]+"/"+st.verb, ct, []byte(st.body)); r.status != 200 {
			t.Fatalf("%s = %d %s", st.verb, r.status, r.body)
		}
		// A second decision on the same post finds nothing.
		if r := d.do(t, mod, "POST", "/v1/lists/team@lists.test/held/"+ids[st.subj]+"/"+st.verb, ct, []byte(st.body)); r.status != 404 {
			t.Fatalf("second %s = %d %s", st.verb, r.status, r.body)
		}
	}
	if r := d.do(t, mod, "GET", "/v1/lists/team@lists.test/held", "", nil); r.status != 200 || strings.TrimSpace(string(r.body)) != "[]" {
		t.Fatalf("held after the decisions = %d %s", r.status, r.body)
	}
	if got := queueFiles(t, s, "pipeline"); got != pipelineBefore+1 {
		t.Fatalf("pipeline queue has %d entries, want %d (the approved post)", got, pipelineBefore+1)
	}
	if got := queueFiles(t, s, "out"); got != outBefore+1 {
		t.Fatalf("out queue has %d entries, want %d (the rejection notice)", got, outBefore+1)
	}
	admin := s.token("site:admin")
	r = d.do(t, admin, "GET", "/v1/audit?list=team@lists.test", "", nil)
	for _, op := range []string{"held.approve", "held.reject", "held.discard"} {
		if !strings.Contains(string(r.body), `"op": "`+op+`"`) {
			t.Errorf("no audit entry for %s:\n%s", op, r.body)
		}
	}
}

// queueFiles counts the entries of a queue of the site.
func queueFiles(t *testing.T, s *site, name string) int {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(s.dir, "state", "queue", name, "*.msg"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.dir, "state", "queue", name)); err != nil {
		t.Fatal(err)
	}
	return len(m)
}
