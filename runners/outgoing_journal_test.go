package runners

import (
	"context"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"cloister/queue"
)

// TestJournalWritesInPlace: the progress journal's lines go in place into
// a file made longer ahead with zeros; a record that fits leaves the
// file's length as it was; a reopened journal holds its lines and goes on
// after them; a torn line is rewritten away before the next one; a NUL in
// a reply does not end the journal.
func TestJournalWritesInPlace(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".progress-x")
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ctx := context.Background()
	size := func() int64 {
		fi, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		return fi.Size()
	}
	lines := func() string {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(queue.JournalLines(b))
	}
	jn, _, _, err := openJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i, step := range []struct {
		name   string
		before func()                         // what happens to the file first
		line   string                         // recorded
		reopen bool                           // the journal is opened again first
		done   []string                       // recipients the reopened journal holds
		length func(before, after int64) bool // the file's length after the record
	}{
		{name: "first line", line: "ok a@x\n", length: func(b, a int64) bool { return a > int64(len("ok a@x\n")) }},
		{name: "in place", line: "ok b@x\n", length: func(b, a int64) bool { return a == b }},
		{name: "reopened", line: "ok c@x\n", reopen: true, done: []string{"a@x", "b@x"}, length: func(b, a int64) bool { return a == b }},
		{name: "torn line rewritten", before: func() {
			f, err := os.OpenFile(path, os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if _, err := f.WriteAt([]byte("ok d@"), int64(want.Len())); err != nil {
				t.Fatal(err)
			}
		}, line: "fail e@x 550 a\x00b\n", reopen: true, done: []string{"a@x", "b@x", "c@x"},
			length: func(b, a int64) bool { return a == int64(want.Len()) }},
		{name: "made longer", line: strings.Repeat("ok f@x\n", 1000), length: func(b, a int64) bool { return a > int64(want.Len()) }},
		{name: "in place again", line: "ok g@x\n", length: func(b, a int64) bool { return a == b }},
	} {
		if step.before != nil {
			step.before()
		}
		if step.reopen {
			jn.Close()
			var done map[string]string
			if jn, done, _, err = openJournal(path); err != nil {
				t.Fatal(err)
			}
			if got := slices.Sorted(maps.Keys(done)); !slices.Equal(got, step.done) {
				t.Fatalf("%s: reopened journal holds %v, want %v", step.name, got, step.done)
			}
		}
		before := size()
		if err := jn.record(ctx, log, step.line, nil); err != nil {
			t.Fatal(err)
		}
		want.WriteString(strings.ReplaceAll(step.line, "\x00", "?"))
		if got := lines(); got != want.String() {
			t.Fatalf("step %d (%s): journal lines %q, want %q", i, step.name, got, want.String())
		}
		if after := size(); !step.length(before, after) {
			t.Fatalf("step %d (%s): file length %d after %d, with %d bytes of lines", i, step.name, after, before, want.Len())
		}
	}
	jn.Close()
	if _, done, _, err := openJournal(path); err != nil || len(done) != 6 || done["e@x"] != "550 a?b" {
		t.Fatalf("journal holds %v (%v), want 6 recipients, e@x refused with the NUL replaced", done, err)
	}
}
