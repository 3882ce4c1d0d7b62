package rules

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cloister/etc"
)

// FuzzParseScenario checks the parser never panics or hangs, that every
// error names a line and column inside the input, and that a parsed scenario
// renders back to text that parses to the same rules.
func FuzzParseScenario(f *testing.F) {
	f.Add([]byte(designExample))
	f.Add([]byte(sympaExample))
	f.Add([]byte("title.gettext t\n! equal ( [header->X-Y] , \"a'b\" ) smtp , md5 -> reject ( reason = 'r' ) , quiet # c\r\n"))
	f.Add([]byte("match([sender],/a\\/b[/]/) smtp -> do_it\nmatch([sender],/\\/) smtp -> do_it"))
	f.Add([]byte("true() smtp -> do_it\n\x00\xff\xfe\n"))
	entries, _ := fs.ReadDir(etc.Scenarios, "scenarios")
	for _, e := range entries {
		src, _ := fs.ReadFile(etc.Scenarios, "scenarios/"+e.Name())
		f.Add(src)
	}
	bad, _ := filepath.Glob(filepath.Join("testdata", "scenario_errors", "*.scn"))
	for _, p := range bad {
		src, _ := os.ReadFile(p)
		f.Add(src)
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		s, err := ParseScenario("fuzz", src)
		if err != nil {
			if s != nil {
				t.Fatal("scenario returned with an error")
			}
			var es ScenarioErrors
			if !errors.As(err, &es) || len(es) == 0 {
				t.Fatalf("error %T is not ScenarioErrors", err)
			}
			lines := strings.Count(string(src), "\n") + 1
			for _, e := range es {
				if e.File != "fuzz" || e.Line < 1 || e.Line > lines || e.Col < 1 || e.Col > MaxScenarioLine+1 || e.Msg == "" {
					t.Fatalf("bad error position: %+v", e)
				}
			}
			return
		}
		var b strings.Builder
		for _, r := range s.Rules {
			if len(r.Methods) == 0 || r.Action == "" {
				t.Fatalf("incomplete rule %+v", r)
			}
			b.WriteString(ruleSummary(r) + "\n")
		}
		again, err := ParseScenario("again", []byte(b.String()))
		if err != nil {
			t.Fatalf("rendered rules do not parse: %v\n%s", err, b.String())
		}
		if len(again.Rules) != len(s.Rules) {
			t.Fatalf("%d rules, then %d", len(s.Rules), len(again.Rules))
		}
		for i := range s.Rules {
			a, b := s.Rules[i], again.Rules[i]
			if ruleSummary(a) != ruleSummary(b) || !slices.Equal(a.Methods, b.Methods) ||
				!slices.Equal(a.Cond.Args, b.Cond.Args) {
				t.Fatalf("rule %d changed: %s -> %s", i, ruleSummary(a), ruleSummary(b))
			}
		}
		// Evaluation of anything that parses must not panic either.
		for _, m := range ScenarioMethods() {
			s.Evaluate(Env{Sender: "a@b", ListName: "l@b", Method: m, Header: headerOf("X-Y: a'b"), Roster: testRoster()})
		}
	})
}
