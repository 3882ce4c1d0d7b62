package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/lists"
)

// TestMemberImportReportsBadLines: an import with bad lines names each with
// its number and imports nothing; --dry-run changes nothing; --skip-bad
// imports the good lines.
func TestMemberImportReportsBadLines(t *testing.T) {
	cfg := newSite(t)
	if out, err := cli(t, "--config", cfg, "list", "create", "team"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	file := filepath.Join(t.TempDir(), "m.csv")
	os.WriteFile(file, []byte("address,name,roles\n"+
		"ann@subs.test,Ann,owner+member\n"+ // line 2
		"# a comment\n"+ // line 3
		"not an address\n"+ // line 4
		"bob@subs.test,Bob\n"+ // line 5
		"cat@subs.test,Cat,captain\n"+ // line 6
		"dan@subs.test,Dan,member,sometimes\n"+ // line 7
		"eve@subs.test,\"Eve\n"), 0o600) // line 8: bare quote
	members := func() string {
		out, err := cli(t, "--config", cfg, "member", "ls", "team")
		if err != nil {
			t.Fatal(err)
		}
		return out
	}

	out, err := cli(t, "--config", cfg, "member", "import", "team", file)
	if err == nil || !strings.Contains(err.Error(), "4 bad lines: nothing imported") {
		t.Errorf("import with bad lines: err %v\n%s", err, out)
	}
	for _, want := range []string{"line 4: ", "line 6: cat@subs.test: unknown role", "line 7: dan@subs.test: delivery", "line 8: "} {
		if !strings.Contains(out, want) {
			t.Errorf("import output lacks %q:\n%s", want, out)
		}
	}
	for _, notWant := range []string{"line 2", "line 3", "line 5"} {
		if strings.Contains(out, notWant) {
			t.Errorf("a good line reported as bad (%s):\n%s", notWant, out)
		}
	}
	if m := members(); strings.Contains(m, "ann@") || strings.Contains(m, "bob@") {
		t.Errorf("members imported despite bad lines:\n%s", m)
	}

	out, err = cli(t, "--config", cfg, "member", "import", "--dry-run", "team", file)
	if err != nil || !strings.Contains(out, "dry run: would import 2 members") {
		t.Errorf("dry run: %v\n%s", err, out)
	}
	if m := members(); strings.Contains(m, "ann@") {
		t.Errorf("dry run imported:\n%s", m)
	}

	out, err = cli(t, "--config", cfg, "member", "import", "--skip-bad", "team", file)
	if err != nil || !strings.Contains(out, "imported 2 members") {
		t.Errorf("skip-bad: %v\n%s", err, out)
	}
	if m := members(); !strings.Contains(m, "ann@subs.test") || !strings.Contains(m, "bob@subs.test") || strings.Contains(m, "cat@") {
		t.Errorf("skip-bad imported the wrong members:\n%s", m)
	}
	out, err = cli(t, "--config", cfg, "member", "import", "--dry-run", "nosuch", file)
	if err == nil {
		t.Errorf("import into a missing list succeeded:\n%s", out)
	}
}

// TestMemberExportRoundTrip: export --csv is read back by import into
// another list with the same addresses, names, roles and delivery; --json
// is the roster as JSON.
func TestMemberExportRoundTrip(t *testing.T) {
	cfg := newSite(t)
	for _, l := range []string{"team", "copy"} {
		if out, err := cli(t, "--config", cfg, "list", "create", l); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
	}
	cli(t, "--config", cfg, "member", "add", "team", "ann@subs.test", "--role", "owner,member", "--name", "Ann, the owner")
	cli(t, "--config", cfg, "member", "add", "team", "bob@subs.test", "--no-delivery")
	csvOut, err := cli(t, "--config", cfg, "member", "export", "team", "--csv")
	if err != nil {
		t.Fatalf("%v\n%s", err, csvOut)
	}
	if !strings.HasPrefix(csvOut, "address,name,roles,delivery,subscribed\n") || !strings.Contains(csvOut, `ann@subs.test,"Ann, the owner",`) {
		t.Errorf("csv export:\n%s", csvOut)
	}
	file := filepath.Join(t.TempDir(), "team.csv")
	os.WriteFile(file, []byte(csvOut), 0o600)
	if out, err := cli(t, "--config", cfg, "member", "import", "copy", file); err != nil || !strings.Contains(out, "imported 2 members") {
		t.Fatalf("import of the export: %v\n%s", err, out)
	}
	var orig, copied []lists.Member
	for _, x := range []struct {
		list string
		into *[]lists.Member
	}{{"team", &orig}, {"copy", &copied}} {
		js, err := cli(t, "--config", cfg, "member", "export", x.list, "--json")
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(js), x.into); err != nil {
			t.Fatalf("json export of %s: %v\n%s", x.list, err, js)
		}
	}
	if len(orig) != 2 || len(copied) != 2 {
		t.Fatalf("exports hold %d and %d members", len(orig), len(copied))
	}
	for i := range orig {
		o, c := orig[i], copied[i]
		if o.Address != c.Address || o.Name != c.Name || o.Delivery != c.Delivery || strings.Join(roles(o.Roles), ",") != strings.Join(roles(c.Roles), ",") || !o.Subscribed.Truncate(time.Second).Equal(c.Subscribed) {
			t.Errorf("member %d changed in the round trip: %+v -> %+v", i, o, c)
		}
	}
	if _, err := cli(t, "--config", cfg, "member", "export", "team"); err == nil {
		t.Error("export without --csv or --json succeeded")
	}
}

func roles(rs []lists.Role) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = string(r)
	}
	return out
}
