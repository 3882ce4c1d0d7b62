package listlog

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/decision"
)

// TestHandler: decisions naming a list go to its log with the known
// attributes only; other records and lists without a safe name do not;
// every record still reaches the next handler.
func TestHandler(t *testing.T) {
	dir := t.TempDir()
	var next bytes.Buffer
	log := slog.New(New(slog.NewTextHandler(&next, nil), dir))
	el := log.With("runner", "pipeline", "list", "team@lists.test")
	el.Info("decision", "decision", decision.Distribute, "recipients", 3, "subject", "SECRET")
	el.Info("decision", "decision", decision.BounceNotScored, "subscriber", "bob@subs.test")
	el.Info("not a decision", "decision", "x")
	el.WithGroup("g").Info("decision", "decision", "grouped")
	log.With("list", "../evil").Info("decision", "decision", "escape")
	log.Info("decision", "decision", "no list")
	b, err := os.ReadFile(filepath.Join(dir, "team@lists.test.log"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	if len(lines) != 2 || !strings.HasSuffix(lines[0], " runner=pipeline decision=distribute recipients=3") ||
		!strings.HasSuffix(lines[1], ` runner=pipeline decision="bounce not scored" subscriber=bob@subs.test`) {
		t.Fatalf("list log:\n%s", b)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Errorf("files in the log dir: %v", ents)
	}
	if n := strings.Count(next.String(), "\n"); n != 6 {
		t.Errorf("next handler got %d records:\n%s", n, next.String())
	}
}

// TestReadAndRotate: a log past MaxSize is rotated, and Read returns the
// tail of both parts, starting at a line.
func TestReadAndRotate(t *testing.T) {
	dir := t.TempDir()
	h := New(slog.NewTextHandler(&bytes.Buffer{}, nil), dir)
	line := strings.Repeat("x", 1000)
	log := slog.New(h).With("list", "team@lists.test")
	for i := 0; i < 1500; i++ {
		log.Info("decision", "decision", line)
	}
	if _, err := os.Stat(filepath.Join(dir, "team@lists.test.log.1")); err != nil {
		t.Fatalf("not rotated: %v", err)
	}
	b, err := Read(dir, "team@lists.test", 10000)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 10000 || len(b) < 8000 || !strings.HasPrefix(string(b), "20") {
		t.Fatalf("read %d bytes starting %.40q", len(b), b)
	}
	if _, err := Read(dir, "../x", 10); err == nil {
		t.Error("read a log outside the directory")
	}
	if b, err := Read(dir, "other@lists.test", 10); err != nil || len(b) != 0 {
		t.Errorf("missing log: %q %v", b, err)
	}
}
