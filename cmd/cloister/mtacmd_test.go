package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestListDomainsAndMTAListsFile: a list in a domain the site does not
// serve is refused at create with a message saying how to serve it; lists
// in domain and domains are made, and mta_lists_file (what Exim reads)
// follows every create and delete with no other command.
func TestListDomainsAndMTAListsFile(t *testing.T) {
	cfgPath := newSite(t)
	mtaFile := filepath.Join(t.TempDir(), "mta", "lists")
	if err := os.MkdirAll(filepath.Dir(mtaFile), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("domains = [\"Second.Test\"]\nmta_lists_file = \"" + mtaFile + "\"\n")
	f.Close()
	run := func(args ...string) (string, error) { return cli(t, append([]string{"--config", cfgPath}, args...)...) }
	listsFile := func() string {
		b, err := os.ReadFile(mtaFile)
		if err != nil {
			t.Fatalf("mta_lists_file: %v", err)
		}
		return string(b)
	}
	out, err := run("list", "create", "team@elsewhere.test")
	if err == nil || !strings.Contains(err.Error(), "elsewhere.test is not one of lists.test, second.test") || !strings.Contains(err.Error(), "domains in cloister.toml") {
		t.Fatalf("a list in an unserved domain: %v\n%s", err, out)
	}
	for _, l := range []string{"team", "news@second.test"} {
		if out, err := run("list", "create", l); err != nil {
			t.Fatalf("create %s: %v\n%s", l, err, out)
		}
	}
	if got, want := listsFile(), "news@second.test\nteam@lists.test\n"; got != want {
		t.Fatalf("mta_lists_file after create = %q, want %q", got, want)
	}
	if fi, _ := os.Stat(mtaFile); fi.Mode().Perm() != 0o644 {
		t.Errorf("mta_lists_file mode %v, want 0644 (the MTA reads it)", fi.Mode().Perm())
	}
	if out, err := run("list", "delete", "team", "--yes"); err != nil {
		t.Fatalf("delete: %v\n%s", err, out)
	}
	if got, want := listsFile(), "news@second.test\n"; got != want {
		t.Fatalf("mta_lists_file after delete = %q, want %q", got, want)
	}
	out, err = run("aliases", "--mta", "exim")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"domains = lists.test : second.test", "lsearch{" + mtaFile + "}", "Cloister rewrites it atomically"} {
		if !strings.Contains(out, want) {
			t.Errorf("exim snippet lacks %q:\n%s", want, out)
		}
	}
	out, err = run("aliases", "--mta", "postfix")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"relay_recipient_maps = socketmap:inet:127.0.0.1:10027:recipients", "argv=/usr/local/lib/cloister/deliver --config " + cfgPath} {
		if !strings.Contains(out, want) {
			t.Errorf("postfix snippet lacks %q:\n%s", want, out)
		}
	}
}
