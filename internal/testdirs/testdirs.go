// Package testdirs finds the directories tests read in place: the repository
// root and the shared message corpus that sits beside the clone
// (../shared/corpus, or $CLOISTER_CORPUS).
package testdirs

import (
	"os"
	"path/filepath"
	"testing"
)

// Root returns the repository root (the directory holding go.mod), found by
// walking up from the test's working directory.
func Root(t testing.TB) string {
	t.Helper()
	dir, err := os.Getwd()
	if err != nil {
		t.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no go.mod above the test directory")
		}
		dir = parent
	}
}

// Corpus returns the shared corpus directory. A missing corpus fails the test:
// CI lays shared/ beside the clone, and the crypto verdicts depend on it.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("CLOISTER_CORPUS")
	if dir == "" {
		dir = filepath.Join(Root(t), "..", "shared", "corpus")
	}
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Fatalf("corpus not found at %s (set CLOISTER_CORPUS): %v", dir, err)
	}
	return dir
}
