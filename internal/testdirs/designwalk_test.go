package testdirs

import (
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"cloister/handlers"
	"cloister/rules"
	"cloister/runners"
)

// pathToken matches a backticked repository path in prose: a file (a name
// with an extension, e.g. `runners/incoming.go`) or a folder written with
// its trailing slash (`handlers/`). Queue directories (`queue/out`),
// patterns (`archive/<list>/new/<entry id>`) and identifiers (`ownmail.Gate`)
// do not match.
var pathToken = regexp.MustCompile("`((?:[a-z0-9_-]+/)+(?:[a-z0-9_-]+\\.[a-z0-9]+)?)`")

// walkPaths returns the repository paths named in lines.
func walkPaths(lines []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, m := range pathToken.FindAllStringSubmatch(strings.Join(lines, "\n"), -1) {
		p := m[1]
		if !strings.HasSuffix(p, "/") && !strings.Contains(path.Base(p), ".") {
			continue
		}
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// TestDesignWalkNamesFilesThatExist: every file and folder that
// docs/design.md's walk of one post names exists, so that a move or a
// rename keeps the walk true; and the walk names the files a post passes
// through, stage by stage.
func TestDesignWalkNamesFilesThatExist(t *testing.T) {
	root := Root(t)
	paths := walkPaths(section(t, filepath.Join(root, "docs", "design.md"), "## One post, stage by stage"))
	for _, want := range []string{"cmd/deliver/main.go", "queue/queue.go", "runners/incoming.go", "intake/open.go",
		"intake/opaque.go", "runners/refusal.go", "notices/refusal.go", "runners/rules.go", "rules/chain.go",
		"runners/clear_reasons.go", "moderation/scenario.go", "moderation/moderate.go", "notices/template.go",
		"notices/notice.go", "runners/pipeline.go", "handlers/handler.go", "runners/outgoing.go",
		"distribute/distributor.go", "distribute/cover_pad.go", "distribute/cover_outer.go", "mta/smtp.go",
		"ownmail/gate.go", "runners/archive.go",
		"internal/site/keys.go", "internal/decision/decision.go", "internal/listlog/listlog.go", "internal/stats/decisions.go"} {
		if !contains(paths, want) {
			t.Errorf("the walk does not name %s", want)
		}
	}
	for _, p := range paths {
		fi, err := os.Stat(filepath.Join(root, filepath.FromSlash(p)))
		switch {
		case err != nil:
			t.Errorf("docs/design.md's walk names %s: %v", p, err)
		case strings.HasSuffix(p, "/") != fi.IsDir():
			t.Errorf("docs/design.md's walk names %s, which is a %s", p, map[bool]string{true: "folder", false: "file"}[fi.IsDir()])
		}
	}
}

// TestWalkPaths checks what counts as a path in the walk.
func TestWalkPaths(t *testing.T) {
	got := walkPaths([]string{
		"**incoming** (`runners/incoming.go`) moves it to `queue/rules`,",
		"the client in `internal/clamd/` and `ownmail.Gate`; `archive/<list>/new/<entry id>`",
		"again `runners/incoming.go` and `bench/faults.sh`, `cmd/deliver`",
	})
	want := "runners/incoming.go internal/clamd/ bench/faults.sh"
	if strings.Join(got, " ") != want {
		t.Errorf("walkPaths = %q, want %q", got, want)
	}
}

// declaringFile returns the repository path of the file in the package
// folder dir that declares the type name.
func declaringFile(t *testing.T, root, dir, name string) string {
	t.Helper()
	fset := token.NewFileSet()
	files, err := filepath.Glob(filepath.Join(root, dir, "*.go"))
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		af, err := parser.ParseFile(fset, f, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range af.Decls {
			g, ok := d.(*ast.GenDecl)
			if !ok {
				continue
			}
			for _, sp := range g.Specs {
				if ts, ok := sp.(*ast.TypeSpec); ok && ts.Name.Name == name {
					return dir + "/" + filepath.Base(f)
				}
			}
		}
	}
	t.Fatalf("no file of %s declares %s", dir, name)
	return ""
}

// notOnAPostsPath are the runners a post to a list does not pass through.
var notOnAPostsPath = map[string]bool{
	"command": true, // mail to -request and the other command addresses
	"bounce":  true, // delivery reports to -bounces
	"digest":  true, // digests are made later from posts already through
}

// TestDesignWalkNamesEveryStep: the walk names the file of every runner a
// post passes through, of every rule of the posting chain and of every
// handler of the default pipeline, so that a new one cannot arrive without
// its place in the walk.
func TestDesignWalkNamesEveryStep(t *testing.T) {
	root := Root(t)
	paths := walkPaths(section(t, filepath.Join(root, "docs", "design.md"), "## One post, stage by stage"))
	var want []string
	for _, r := range runners.All {
		if !notOnAPostsPath[r.Name()] {
			want = append(want, declaringFile(t, root, "runners", reflect.TypeOf(r).Name()))
		}
	}
	for _, l := range rules.PostingChain {
		want = append(want, declaringFile(t, root, "rules", reflect.TypeOf(l.Rule).Name()))
	}
	for _, h := range handlers.All {
		want = append(want, declaringFile(t, root, "handlers", reflect.TypeOf(h).Name()))
	}
	for _, w := range want {
		if !contains(paths, w) {
			t.Errorf("docs/design.md's walk of one post does not name %s", w)
		}
	}
}
