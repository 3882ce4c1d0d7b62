package queue

import (
	"strings"
	"testing"
)

// TestPeekBody: the body of an entry peeked at (not claimed) is read from
// its .msg file, and that of a claimed one from its .bak.
func TestPeekBody(t *testing.T) {
	q, err := Open(t.TempDir(), "held")
	if err != nil {
		t.Fatal(err)
	}
	name, err := q.Enqueue(&Meta{List: "l@x.test"}, strings.NewReader("Subject: s\n\nbody\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	name = strings.TrimSuffix(name, ".msg")
	e, err := q.Peek(name)
	if err != nil {
		t.Fatal(err)
	}
	b, err := e.Body()
	if err != nil || string(b) != "Subject: s\n\nbody\n" {
		t.Fatalf("peeked body %q, %v", b, err)
	}
	c, err := q.Claim(name)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := c.Body(); err != nil || string(b) != "Subject: s\n\nbody\n" {
		t.Fatalf("claimed body %q, %v", b, err)
	}
}
