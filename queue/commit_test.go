package queue

import (
	"bytes"
	"os"
	"testing"
)

// TestProgressedCountsLines: an entry made progress when its journal holds
// more whole lines than at the last count, whatever the file's length: the
// outgoing runner writes its lines in place into a file made longer ahead
// with zeros, so a line added leaves the length as it was and zeros added
// are no line.
func TestProgressedCountsLines(t *testing.T) {
	q, err := Open(t.TempDir(), Out)
	if err != nil {
		t.Fatal(err)
	}
	m := &Meta{ID: "1700000000000000000+ab"}
	zeros := func(n int) string { return string(bytes.Repeat([]byte{0}, n)) }
	for _, step := range []struct {
		name    string
		journal string // "" for no journal
		want    bool
		lines   int64
	}{
		{"no journal", "", false, 0},
		{"a first line, zeros after it", "ok a@x\n" + zeros(4089), true, 1},
		{"nothing new", "ok a@x\n" + zeros(4089), false, 1},
		{"a line written in place", "ok a@x\nok b@x\n" + zeros(4082), true, 2},
		{"a torn line", "ok a@x\nok b@x\nok c" + zeros(4078), false, 2},
		{"the file made longer", "ok a@x\nok b@x\nok c" + zeros(8174), false, 2},
		{"the torn line ended, one more", "ok a@x\nok b@x\nok c@x\nscored c@x\n" + zeros(8159), true, 4},
	} {
		if step.journal != "" {
			if err := os.WriteFile(JournalPath(q.Dir, m.ID), []byte(step.journal), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		if got := q.Progressed(m); got != step.want || m.Progress != step.lines {
			t.Fatalf("%s: progressed %v with %d lines recorded, want %v with %d", step.name, got, m.Progress, step.want, step.lines)
		}
	}
}

// TestJournalLines: a journal's lines end at its first NUL byte and at its
// last line end.
func TestJournalLines(t *testing.T) {
	for in, want := range map[string]string{
		"":                       "",
		"ok a@x":                 "",
		"ok a@x\n":               "ok a@x\n",
		"ok a@x\nok b":           "ok a@x\n",
		"ok a@x\n\x00\x00":       "ok a@x\n",
		"ok a@x\nok b\x00\x00":   "ok a@x\n",
		"ok a@x\n\x00ok b@x\n":   "ok a@x\n",
		"\x00ok a@x\nok b@x\n\n": "",
	} {
		if got := string(JournalLines([]byte(in))); got != want {
			t.Errorf("JournalLines(%q) = %q, want %q", in, got, want)
		}
	}
}
