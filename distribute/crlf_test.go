package distribute

import (
	"bytes"
	"testing"
)

func TestCRLFWriter(t *testing.T) {
	var b bytes.Buffer
	w := &crlfWriter{w: &b}
	for _, p := range []string{"a\nb\r", "\nc\r\n", "\n", "d"} {
		w.Write([]byte(p))
	}
	if got := b.String(); got != "a\r\nb\r\nc\r\n\r\nd" {
		t.Fatalf("got %q", got)
	}
}
