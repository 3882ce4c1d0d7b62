package rules

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// docBlocks returns the fenced code blocks of a markdown file.
func docBlocks(doc string) []string {
	var blocks []string
	parts := strings.Split(doc, "```")
	for i := 1; i < len(parts); i += 2 {
		blocks = append(blocks, strings.TrimPrefix(parts[i], "\n"))
	}
	return blocks
}

// TestScenarioDocs keeps docs/scenarios.md true: every built-in is described
// with its rules verbatim, every example parses, and the sample outputs are
// what the code prints.
func TestScenarioDocs(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join(testdirs.Root(t), "docs", "scenarios.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(raw)
	blocks := docBlocks(doc)

	set := NewScenarioSet("")
	for _, op := range ScenarioOperations() {
		for _, name := range set.Names(op) {
			if !strings.Contains(doc, "#### "+name+"\n") {
				t.Errorf("docs: no section for %s", name)
			}
			src, err := os.ReadFile(filepath.Join(testdirs.Root(t), "etc", "scenarios", name))
			if err != nil {
				t.Fatal(err)
			}
			var rules []string
			for _, l := range strings.Split(string(src), "\n") {
				if l != "" && !strings.HasPrefix(l, "#") && !strings.HasPrefix(l, "title") {
					rules = append(rules, l)
				}
			}
			want := strings.Join(rules, "\n") + "\n"
			found := false
			for _, b := range blocks {
				found = found || b == want
			}
			if !found {
				t.Errorf("docs: the rules of %s are not shown verbatim:\n%s", name, want)
			}
		}
	}

	var explain, check string
	for _, b := range blocks {
		switch {
		case strings.HasPrefix(b, "$ cloister scenario explain"):
			explain = b
		case strings.HasPrefix(b, "$ cloister scenario check"):
			check = b
		case strings.HasPrefix(b, "condition "): // the grammar, not a scenario
		case strings.Contains(b, "-> ") && !strings.HasPrefix(b, "$"):
			if _, err := ParseScenario("doc", []byte(b)); err != nil {
				t.Errorf("docs: example does not parse: %v\n%s", err, b)
			}
		}
	}

	// The explain sample: a stranger posting by smtp to a send.private list.
	s, err := set.Get("send.private")
	if err != nil {
		t.Fatal(err)
	}
	d, trace := s.Evaluate(Env{Sender: "bob@example.net", ListName: testList, Method: "smtp", Roster: testRoster()})
	_, shown, _ := strings.Cut(explain, "\n")
	if got := FormatScenarioTrace(d, trace); got != shown {
		t.Errorf("docs: explain sample differs from the real output:\n%s\nreal:\n%s", shown, got)
	}

	// The check sample: a file with a misspelt condition on line 3 and a
	// Sympa method on line 5.
	path := filepath.Join(t.TempDir(), "send.custom")
	writeFile(t, path, "# custom\ntitle.gettext custom\n            !is_subscribr([listname],[sender]) smtp -> do_it\n"+
		"true() md5 -> do_it\ntrue()                        smtp,dkim -> do_it\n")
	cerr := set.Check(path)
	if cerr == nil {
		t.Fatal("check sample: no error")
	}
	_, shown, _ = strings.Cut(check, "\n")
	if got := strings.ReplaceAll(cerr.Error(), path, "send.custom") + "\n"; got != shown {
		t.Errorf("docs: check sample differs from the real output:\n%s\nreal:\n%s", shown, got)
	}
}
