package testdirs

import (
	"os/exec"
	"strings"
	"testing"
)

// neverArrows are the dependencies the layout forbids, by package path
// prefix (a prefix ending in "/" is a folder's packages; otherwise the
// package and the folder under it): the message model and the queue know
// nothing of crypto or of the pipeline that uses them, and the plumbing
// under internal/ nothing of the pipeline, the ways in or the domain
// packages (HACKING.md's layout).
var neverArrows = []struct{ from, to, why string }{
	{"cloister/mailmsg", "cloister/mimecrypt", "the message model is below crypto"},
	{"cloister/queue", "cloister/mimecrypt", "the queue moves bytes and metadata, it opens nothing"},
	{"cloister/internal/", "cloister/runners", "plumbing is used by the pipeline, not the other way"},
	{"cloister/internal/", "cloister/handlers", "plumbing is below the pipeline"},
	{"cloister/internal/", "cloister/rules", "plumbing is below the pipeline"},
	{"cloister/internal/", "cloister/commands", "plumbing is below the pipeline"},
	{"cloister/internal/", "cloister/service", "plumbing is below the ways in"},
	{"cloister/internal/", "cloister/api", "plumbing is below the ways in"},
	{"cloister/internal/", "cloister/web", "plumbing is below the ways in"},
	{"cloister/internal/", "cloister/moderation", "plumbing is below the domain packages"},
	{"cloister/internal/", "cloister/distribute", "plumbing is below the domain packages"},
	{"cloister/internal/", "cloister/intake", "plumbing is below the domain packages"},
}

// under says whether pkg is the package prefix names or one below it.
func under(pkg, prefix string) bool {
	if strings.HasSuffix(prefix, "/") {
		return strings.HasPrefix(pkg, prefix)
	}
	return pkg == prefix || strings.HasPrefix(pkg, prefix+"/")
}

// TestNeverArrows fails on a package of the module whose non-test
// dependencies, direct or not, take one of the forbidden arrows.
func TestNeverArrows(t *testing.T) {
	cmd := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Deps " "}}`, "./...")
	cmd.Dir = Root(t)
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	seen := map[string]bool{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Fields(line)
		for _, a := range neverArrows {
			if !under(f[0], a.from) || under(f[0], a.to) {
				continue
			}
			seen[a.from] = true
			for _, dep := range f[1:] {
				if under(dep, a.to) {
					t.Errorf("%s depends on %s: %s", f[0], dep, a.why)
				}
			}
		}
	}
	for _, a := range neverArrows {
		if !seen[a.from] {
			t.Errorf("no package under %s: the arrow %s -> %s guards nothing", a.from, a.from, a.to)
		}
	}
}

// TestUnder: the prefix rule of neverArrows.
func TestUnder(t *testing.T) {
	for _, c := range []struct {
		pkg, prefix string
		want        bool
	}{
		{"cloister/mailmsg", "cloister/mailmsg", true},
		{"cloister/mailmsg/rawmime", "cloister/mailmsg", true},
		{"cloister/mailmsgx", "cloister/mailmsg", false},
		{"cloister/internal/site", "cloister/internal/", true},
		{"cloister/internal", "cloister/internal/", false},
	} {
		if got := under(c.pkg, c.prefix); got != c.want {
			t.Errorf("under(%q, %q) = %v", c.pkg, c.prefix, got)
		}
	}
}
