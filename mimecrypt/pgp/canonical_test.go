package pgp

import (
	"bytes"
	"strings"
	"testing"

	"cloister/mailmsg/rawmime"
)

// TestWriteCanonical: the streamed canonical form equals rawmime.Canonical,
// line ends across the 64 KB chunk boundaries included.
func TestWriteCanonical(t *testing.T) {
	long := strings.Repeat("x", 64<<10-1)
	for _, in := range []string{
		"", "a", "\n", "\r\n", "a\nb\r\nc\n", "\n\n\r\n\r\r\n", "no end",
		long + "\r\n" + "tail\n",        // CRLF split by the boundary
		long + "\n\n",                   // LF right at the boundary
		long + "x\nafter\r",             // LF first in the second chunk
		strings.Repeat("line\n", 40000), // many chunks
	} {
		var got bytes.Buffer
		if err := writeCanonical(&got, []byte(in)); err != nil {
			t.Fatal(err)
		}
		want := rawmime.Canonical([]byte(in))
		if !bytes.Equal(got.Bytes(), want) {
			t.Errorf("input of %d bytes: got %d bytes, want %d (Canonical)", len(in), got.Len(), len(want))
		}
		if n := bareLFs([]byte(in)); len(in)+n != len(want) {
			t.Errorf("input of %d bytes: bareLFs %d, want %d", len(in), n, len(want)-len(in))
		}
	}
}
