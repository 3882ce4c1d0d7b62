package main

import (
	"encoding/json"
	"strings"
	"testing"

	"cloister/service"
)

// TestAuditCommand: the CLI's changes are in the audit log, read back by
// cloister audit (table and JSON, per list), and reads are not.
func TestAuditCommand(t *testing.T) {
	cfg := newSite(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := cli(t, append([]string{"--config", cfg}, args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	run("list", "create", "team")
	run("list", "create", "other")
	run("member", "add", "team", "bob@subs.test")
	run("list", "set", "team", "footer", "hello")
	run("member", "ls", "team")
	run("list", "show", "team")
	if _, err := cli(t, "--config", cfg, "member", "add", "team", "bob@subs.test"); err == nil {
		t.Fatal("adding bob twice succeeded")
	}

	var all []service.AuditEntry
	if err := json.Unmarshal([]byte(run("audit", "--json")), &all); err != nil {
		t.Fatal(err)
	}
	var ops []string
	for _, e := range all {
		ops = append(ops, e.Op+" "+e.List+" "+e.Target+" "+e.Result)
		if e.Method != service.MethodConsole || e.Via != service.ViaCLI || e.Time.IsZero() {
			t.Errorf("entry %+v: want method console, via cli and a time", e)
		}
	}
	want := []string{
		"list.create team@lists.test  ok",
		"list.create other@lists.test  ok",
		"member.add team@lists.test bob@subs.test ok",
		`list.set team@lists.test footer="hello" ok`,
		"member.add team@lists.test bob@subs.test conflict",
	}
	if strings.Join(ops, "\n") != strings.Join(want, "\n") {
		t.Errorf("audit entries:\n%s\nwant:\n%s", strings.Join(ops, "\n"), strings.Join(want, "\n"))
	}

	out := run("audit", "--list", "other")
	if !strings.Contains(out, "list.create") || strings.Contains(out, "member.add") {
		t.Errorf("audit --list other:\n%s", out)
	}
	if out := run("audit", "--since", "2000-01-01"); strings.Count(out, "\n") != 1+len(want) {
		t.Errorf("audit --since 2000-01-01: want a header and %d lines:\n%s", len(want), out)
	}
	if out := run("audit", "--since", "2999-01-01"); strings.Count(out, "\n") != 1 {
		t.Errorf("audit --since the future: want only the header:\n%s", out)
	}
	if _, err := cli(t, "--config", cfg, "audit", "--since", "yesterday-ish"); err == nil {
		t.Error("audit --since with a bad value succeeded")
	}
}
