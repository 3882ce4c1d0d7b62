package mta

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestAppendJoin checks that a buffer passed back is reused and holds
// exactly the new concatenation: a shorter copy after a longer one leaves
// nothing of the longer one, and a wire part's stream is written in place.
func TestAppendJoin(t *testing.T) {
	stream := func(s string) *Part {
		return NewWirePart(len(s), func(w io.Writer) error { _, err := io.WriteString(w, s); return err })
	}
	long := []*Part{NewPart([]byte("Header: one\r\n\r\n")), stream("a long shared body, written by its stream\r\n")}
	short := []*Part{NewPart([]byte("H: 2\r\n\r\n")), NewPart([]byte("short\r\n"))}
	buf := AppendJoin(nil, long)
	if want := "Header: one\r\n\r\na long shared body, written by its stream\r\n"; string(buf) != want {
		t.Fatalf("first join = %q, want %q", buf, want)
	}
	got := AppendJoin(buf[:0], short)
	if want := "H: 2\r\n\r\nshort\r\n"; string(got) != want {
		t.Fatalf("second join = %q, want %q", got, want)
	}
	if &got[0] != &buf[0] {
		t.Error("the buffer passed back was not reused")
	}
	if !bytes.Equal(Join(short), got) {
		t.Error("Join and AppendJoin differ")
	}
	failing := []*Part{NewPart([]byte("x")), NewWirePart(3, func(io.Writer) error { return errors.New("gone") })}
	if b := AppendJoin(got[:0], failing); b != nil {
		t.Errorf("join with a failing stream = %q, want nil", b)
	}
}
