package testdirs

import (
	"bufio"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// section returns the lines of a Markdown file from the heading (a line
// equal to heading) to the next heading of the same or a higher level.
func section(t *testing.T, file, heading string) []string {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	level := strings.Index(heading, " ")
	var out []string
	in := false
	for _, l := range strings.Split(string(b), "\n") {
		if in {
			if n := strings.Index(l, " "); n > 0 && n <= level && strings.Trim(l[:n], "#") == "" {
				break
			}
			out = append(out, l)
		}
		if l == heading {
			in = true
		}
	}
	if !in {
		t.Fatalf("%s has no section %q", file, heading)
	}
	return out
}

// firstCell matches a table row's first cell when it is a backticked
// folder, e.g. "| `mimecrypt/cms` | ...".
var firstCell = regexp.MustCompile("^\\| `([^`]+)` \\|")

// layoutNames returns the folders the layout tables of HACKING.md name, as
// path.Match patterns: NN stands for two digits and "name" after "NN-" for
// any name (`test/e2e/NN-name`).
func layoutNames(t *testing.T, lines []string) []string {
	var names []string
	for _, l := range lines {
		if m := firstCell.FindStringSubmatch(l); m != nil {
			names = append(names, strings.ReplaceAll(strings.TrimSuffix(m[1], "/"), "NN-name", "[0-9][0-9]-*"))
		}
	}
	return names
}

// ignoredTop returns the top-level folders .gitignore ignores ("/bin/"):
// build output, not part of the repository.
func ignoredTop(t *testing.T, root string) map[string]bool {
	out := map[string]bool{}
	f, err := os.Open(filepath.Join(root, ".gitignore"))
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		l := strings.TrimSpace(sc.Text())
		if strings.HasPrefix(l, "/") && strings.HasSuffix(l, "/") && strings.Count(l, "/") == 2 {
			out[strings.Trim(l, "/")] = true
		}
	}
	return out
}

// folders returns the folders that HACKING.md must name: every top-level
// folder, and every folder below that holds .go files. Hidden folders
// (.git, .ci), node_modules and the folders .gitignore leaves out are not
// part of the layout.
func folders(t *testing.T, root string) []string {
	t.Helper()
	ignored := ignoredTop(t, root)
	seen := map[string]bool{}
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if rel == "." {
				return nil
			}
			if strings.HasPrefix(d.Name(), ".") || d.Name() == "node_modules" || ignored[rel] {
				return filepath.SkipDir
			}
			if !strings.Contains(rel, "/") {
				seen[rel] = true
			}
			return nil
		}
		if strings.HasSuffix(p, ".go") && path.Dir(rel) != "." {
			seen[path.Dir(rel)] = true
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for f := range seen {
		out = append(out, f)
	}
	sort.Strings(out)
	return out
}

// unnamed returns the folders no name matches.
func unnamed(folders, names []string) []string {
	var out []string
	for _, f := range folders {
		found := false
		for _, n := range names {
			if ok, _ := path.Match(n, f); ok {
				found = true
				break
			}
		}
		if !found {
			out = append(out, f)
		}
	}
	return out
}

// TestLayoutNamesEveryFolder: HACKING.md's layout tables name every
// top-level folder of the repository and every folder holding Go code, so
// that a new package cannot arrive without its line.
func TestLayoutNamesEveryFolder(t *testing.T) {
	root := Root(t)
	names := layoutNames(t, section(t, filepath.Join(root, "HACKING.md"), "## Layout"))
	if len(names) == 0 {
		t.Fatal("HACKING.md's layout section has no table rows")
	}
	all := folders(t, root)
	for _, want := range []string{"cmd/deliver", "internal/testdirs", "etc", "docs", "testdata"} {
		if !contains(all, want) {
			t.Fatalf("the walk of the repository missed %s: %v", want, all)
		}
	}
	if miss := unnamed(all, names); len(miss) != 0 {
		t.Errorf("HACKING.md's layout tables do not name these folders (add a row each, in their group):\n%s", strings.Join(miss, "\n"))
	}
}

// TestUnnamedFolders checks the matching on its own: a folder no row names
// is reported, a pattern row covers the suites it stands for.
func TestUnnamedFolders(t *testing.T) {
	names := layoutNames(t, []string{
		"| folder | holds |",
		"|---|---|",
		"| `queue` | entries |",
		"| `test/e2e/NN-name` | suites |",
		"| `etc/` | installed files |",
		"not a row `lists`",
	})
	tests := []struct {
		folders, want []string
	}{
		{[]string{"queue", "etc", "test/e2e/01-postfix", "test/e2e/14-fulldisk"}, nil},
		{[]string{"queue", "lists", "queue/sub"}, []string{"lists", "queue/sub"}},
		{[]string{"test/e2e/harness", "test/e2e/1-short"}, []string{"test/e2e/harness", "test/e2e/1-short"}},
	}
	for _, tt := range tests {
		if got := unnamed(tt.folders, names); strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("unnamed(%v) = %v, want %v", tt.folders, got, tt.want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
