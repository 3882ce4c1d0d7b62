package handlers

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestOwnerDocs keeps docs/handlers.md true to the code: its table lists
// the default pipeline in order and every handler has its own section.
func TestOwnerDocs(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(testdirs.Root(t), "docs", "handlers.md"))
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	var table []string
	for _, m := range regexp.MustCompile("(?m)^\\| \\d+ \\| `([a-z0-9-]+)` \\|").FindAllStringSubmatch(doc, -1) {
		table = append(table, m[1])
	}
	if got, want := strings.Join(table, " "), strings.Join(DefaultPipeline(), " "); got != want {
		t.Errorf("docs/handlers.md table order:\n got %s\nwant %s", got, want)
	}
	for _, h := range All {
		if !strings.Contains(doc, "\n## "+h.Name()+"\n") {
			t.Errorf("docs/handlers.md has no section for %s", h.Name())
		}
	}
}
