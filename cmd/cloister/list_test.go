package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestListSetScenario: `list set` takes a scenario setting only when it
// names a built-in or site scenario of its operation; a refused value leaves
// the setting as it was.
func TestListSetScenario(t *testing.T) {
	cfg := newSite(t)
	site := t.TempDir()
	if err := os.WriteFile(filepath.Join(site, "admin.board"),
		[]byte("# admin.board: the board\ntitle board\nequal([sender],'chair@subs.test') pgp -> do_it\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("scenario_dir = \"" + site + "\"\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if out, err := cli(t, "--config", cfg, "list", "create", "team", "--owner", "ann@subs.test"); err != nil {
		t.Fatalf("list create: %v\n%s", err, out)
	}
	shown := func(name string) string {
		t.Helper()
		out, err := cli(t, "--config", cfg, "list", "show", "team")
		if err != nil {
			t.Fatalf("list show: %v\n%s", err, out)
		}
		for _, l := range strings.Split(out, "\n") {
			if f := strings.Fields(l); len(f) == 2 && f[0] == name {
				return f[1]
			}
		}
		t.Fatalf("list show has no %s:\n%s", name, out)
		return ""
	}
	if a, m := shown("admin"), shown("moderate"); a != "admin.signed" || m != "moderate.signed" {
		t.Fatalf("defaults: admin %s, moderate %s", a, m)
	}
	for _, tc := range []struct {
		setting, value string
		err            string // "" when accepted
	}{
		{"admin", "admin.listmaster", ""},
		{"moderate", "moderate.owner", ""},
		{"admin", "admin.board", ""}, // a site scenario
		{"admin", "admin.nosuch", "no scenario admin.nosuch"},
		{"moderate", "moderate.open", "no scenario moderate.open"},
		{"send", "send.privat", "no scenario send.privat"},
		{"admin", "moderate.owner", "bad setting value"},
		{"admin", "admin.../send.public", "bad setting value"},
	} {
		before := shown(tc.setting)
		out, err := cli(t, "--config", cfg, "list", "set", "team", tc.setting, tc.value)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("list set %s %s: %v\n%s", tc.setting, tc.value, err, out)
		case tc.err == "" && shown(tc.setting) != tc.value:
			t.Errorf("list set %s %s: list show says %s", tc.setting, tc.value, shown(tc.setting))
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("list set %s %s: %v, want an error with %q", tc.setting, tc.value, err, tc.err)
		case tc.err != "" && shown(tc.setting) != before:
			t.Errorf("list set %s %s was refused but the setting changed from %s to %s", tc.setting, tc.value, before, shown(tc.setting))
		}
	}
}

// TestCheckScenarios: check reports a list whose setting names a site
// scenario that was removed after `list set`, and passes once it is back.
func TestCheckScenarios(t *testing.T) {
	cfg := newSite(t)
	withMTA(t, cfg)
	dir := t.TempDir()
	file := filepath.Join(dir, "admin.board")
	src := []byte("# admin.board: the board\ntitle board\nequal([sender],'chair@subs.test') pgp -> do_it\n")
	if err := os.WriteFile(file, src, 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cfg, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString("scenario_dir = \"" + dir + "\"\n"); err != nil {
		t.Fatal(err)
	}
	f.Close()
	for _, args := range [][]string{{"list", "create", "team", "--owner", "ann@subs.test"}, {"list", "set", "team", "admin", "admin.board"}} {
		if out, err := cli(t, append([]string{"--config", cfg}, args...)...); err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
	}
	if out, err := cli(t, "--config", cfg, "check"); err != nil || !strings.Contains(out, "scenarios OK") {
		t.Fatalf("check with the scenario in place: %v\n%s", err, out)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	out, err := cli(t, "--config", cfg, "check")
	if err == nil || !strings.Contains(out, "scenario missing: team@") || !strings.Contains(out, "no scenario admin.board") {
		t.Fatalf("check with the scenario gone: %v\n%s", err, out)
	}
}
