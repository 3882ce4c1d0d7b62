package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsMan generates the man pages and checks one per command, each a
// troff page with its synopsis.
func TestDocsMan(t *testing.T) {
	dir := t.TempDir()
	if out, err := cli(t, "docs", "man", dir); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for _, tt := range []struct{ page, want string }{
		{"cloister.1", "secure mailing-list manager"},
		{"cloister-runner.1", "cloister runner NAME"},
		{"cloister-backup.1", "cloister backup DIR"},
		{"cloister-restore.1", "MANIFEST.json"},
		{"cloister-status.1", "runners alive"},
		{"cloister-aliases.1", "--exim-lists"},
	} {
		b, err := os.ReadFile(filepath.Join(dir, tt.page))
		if err != nil {
			t.Errorf("no page %s: %v", tt.page, err)
			continue
		}
		if !strings.HasPrefix(string(b), ".nh\n.TH \"CLOISTER\" \"1\"") || !strings.Contains(string(b), tt.want) {
			t.Errorf("%s lacks the header or %q:\n%.400s", tt.page, tt.want, b)
		}
	}
}
