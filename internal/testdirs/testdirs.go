// Package testdirs finds the directories tests read in place: the repository
// root and the message corpus kept in the repository (testdata/corpus: real
// client messages, keys and certificates; testdata/corpus/SOURCES.md names
// each file's origin and licence).
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

// Corpus returns the corpus directory, testdata/corpus under the repository
// root. A missing corpus fails the test: the crypto verdicts depend on it.
func Corpus(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(Root(t), "testdata", "corpus")
	if _, err := os.Stat(filepath.Join(dir, "SOURCES.md")); err != nil {
		t.Fatalf("corpus not found at %s: %v", dir, err)
	}
	return dir
}

// Slow skips the test under -short (make test-unit), saying why ("short:
// needs postfix"): real peers, root, a browser or minutes of work. Without
// -short (make test) the test runs, so nothing is skipped silently there.
func Slow(t testing.TB, why string) {
	t.Helper()
	if testing.Short() {
		t.Skip("short: " + why)
	}
}
