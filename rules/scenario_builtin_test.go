package rules

import (
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cloister/etc"
	"cloister/internal/testdirs"
)

// The senders of the built-in tests, one per role (testRoster): a subscriber,
// a moderator and an owner who are not subscribed, a listmaster, a stranger.
// Mixed case checks that addresses compare case-insensitively.
var builtinSenders = map[string]string{
	"subscriber": "Sub@Example.org",
	"editor":     "MOD@example.org",
	"owner":      "boss@EXAMPLE.ORG",
	"listmaster": "root@example.org",
	"stranger":   "stranger@example.net",
}

// builtinWant is, per built-in scenario and sender role, the decision for the
// methods smtp, md5, pgp, smime in that order. Roles left out expect the
// "others" row. These are the behaviours docs/scenarios.md promises.
var builtinWant = map[string]map[string][4]string{
	"send.public": {"others": all4("do_it")},
	"send.private": {
		"subscriber": all4("do_it"), "editor": all4("do_it"), "owner": all4("do_it"),
		"others": all4("reject(reason='send_subscriber')"),
	},
	"send.private_pgp": {
		"subscriber": pgpOnly, "editor": pgpOnly, "owner": pgpOnly,
		"others": all4("reject(reason='send_subscriber')"),
	},
	"send.private_smime": {
		"subscriber": smimeOnly, "editor": smimeOnly, "owner": smimeOnly,
		"others": all4("reject(reason='send_subscriber')"),
	},
	"send.private_key": {
		"subscriber": proven, "editor": proven, "owner": proven,
		"others": all4("reject(reason='send_subscriber')"),
	},
	"send.moderated": {
		"editor":     {"editorkey", "do_it", "do_it", "do_it"},
		"subscriber": all4("editorkey"),
		"others":     all4("reject(reason='send_subscriber')"),
	},
	"send.editorkey": {"editor": all4("do_it"), "others": all4("editorkey")},
	"send.newsletter": {
		"editor": proven,
		"others": all4("reject(reason='send_editor')"),
	},
	"send.closed":         {"others": all4("reject(reason='send_closed')")},
	"subscribe.open":      {"others": all4("do_it")},
	"subscribe.confirm":   {"others": proven},
	"subscribe.owner":     {"subscriber": all4("do_it"), "others": all4("owner")},
	"subscribe.signed":    {"others": {"reject(reason='subscribe_signed')", "reject(reason='subscribe_signed')", "do_it", "do_it"}},
	"unsubscribe.open":    {"others": all4("do_it")},
	"unsubscribe.confirm": {"others": proven},
	"unsubscribe.owner":   {"others": all4("owner")},
	"review.owner": {
		"owner": all4("do_it"), "listmaster": all4("do_it"),
		"others": all4("reject(reason='review_owner')"),
	},
	"review.private": {
		"subscriber": all4("do_it"), "editor": all4("do_it"), "owner": all4("do_it"), "listmaster": all4("do_it"),
		"others": all4("reject(reason='review_subscriber')"),
	},
	"review.public": {"others": all4("do_it")},
	"get.private": {
		"subscriber": all4("do_it"), "editor": all4("do_it"), "owner": all4("do_it"),
		"others": all4("reject(reason='get_subscriber')"),
	},
	"get.public": {"others": all4("do_it")},
	"get.closed": {"others": all4("reject(reason='get_closed')")},
	"key.signed": {"others": {"reject(reason='key_signed')", "reject(reason='key_signed')", "do_it", "do_it"}},
	"key.owner": {
		"owner":  {"owner", "do_it", "do_it", "do_it"},
		"others": all4("owner"),
	},
	"admin.signed": {
		"owner": signed("admin_signed"), "listmaster": signed("admin_signed"),
		"others": all4("reject(reason='admin_signed')"),
	},
	"admin.listmaster": {
		"listmaster": signed("admin_listmaster"),
		"others":     all4("reject(reason='admin_listmaster')"),
	},
	"admin.closed": {"others": all4("reject(reason='admin_closed')")},
	"moderate.signed": {
		"editor": signed("moderate_signed"), "owner": signed("moderate_signed"), "listmaster": signed("moderate_signed"),
		"others": all4("reject(reason='moderate_signed')"),
	},
	"moderate.owner": {
		"owner": signed("moderate_owner"), "listmaster": signed("moderate_owner"),
		"others": all4("reject(reason='moderate_owner')"),
	},
}

var (
	pgpOnly   = [4]string{"reject(reason='send_pgp_signed')", "reject(reason='send_pgp_signed')", "do_it", "reject(reason='send_pgp_signed')"}
	smimeOnly = [4]string{"reject(reason='send_smime_signed')", "reject(reason='send_smime_signed')", "reject(reason='send_smime_signed')", "do_it"}
	proven    = [4]string{"request_auth", "do_it", "do_it", "do_it"}
)

func all4(s string) [4]string { return [4]string{s, s, s, s} }

// signed is the row of a role allowed only with a signature (pgp, smime):
// smtp and md5 get the rejection with reason.
func signed(reason string) [4]string {
	r := "reject(reason='" + reason + "')"
	return [4]string{r, r, "do_it", "do_it"}
}

func TestBuiltinScenarios(t *testing.T) {
	set := NewScenarioSet("")
	var names []string
	for _, op := range ScenarioOperations() {
		names = append(names, set.Names(op)...)
	}
	if want := slices.Sorted(maps.Keys(builtinWant)); !slices.Equal(slices.Sorted(slices.Values(names)), want) {
		t.Fatalf("built-ins %v\ntable    %v", names, want)
	}
	for _, name := range names {
		s, err := set.Get(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for role, sender := range builtinSenders {
			row, ok := builtinWant[name][role]
			if !ok {
				row = builtinWant[name]["others"]
			}
			for i, method := range ScenarioMethods() {
				t.Run(name+"/"+role+"/"+method, func(t *testing.T) {
					d, trace := s.Evaluate(Env{Sender: sender, ListName: testList, Method: method, Roster: testRoster()})
					if d.String() != row[i] {
						t.Errorf("got %s, want %s\n%s", d, row[i], FormatScenarioTrace(d, trace))
					}
					// Every built-in ends with a catch-all: no request falls
					// through to "no rule matched".
					if d.Line == 0 {
						t.Errorf("no rule decided")
					}
					checkTrace(t, d, trace, len(s.Rules))
				})
			}
		}
	}
}

// TestBuiltinScenarioFiles checks each built-in file opens with a comment
// saying what it allows and has a title, and that the embedded copies are the
// files of etc/scenarios.
func TestBuiltinScenarioFiles(t *testing.T) {
	dir := filepath.Join(testdirs.Root(t), "etc", "scenarios")
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(builtinWant) {
		t.Errorf("%d files in etc/scenarios, %d in the table", len(entries), len(builtinWant))
	}
	for _, e := range entries {
		name := e.Name()
		src, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		embedded, err := fs.ReadFile(etc.Scenarios, "scenarios/"+name)
		if err != nil || string(embedded) != string(src) {
			t.Errorf("%s: embedded copy differs or is missing: %v", name, err)
		}
		if !strings.HasPrefix(string(src), "# "+name+": ") {
			t.Errorf("%s: does not open with a comment \"# %s: what it allows\"", name, name)
		}
		s, err := ParseScenario(name, src)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if s.Title == "" {
			t.Errorf("%s: no title", name)
		}
	}
}
