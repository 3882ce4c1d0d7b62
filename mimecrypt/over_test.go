package mimecrypt

import (
	"bytes"
	"testing"
)

// TestWriteOver: the message written over the buffer is head, the piece
// with CRLFs made LF (or kept CRLF), then tail, as a copy would be; and
// nothing is written when the piece would grow, the head does not fit in
// front of it, the whole exceeds the capacity, or the piece is not where
// the offset says.
func TestWriteOver(t *testing.T) {
	for _, tc := range []struct {
		name, head, piece, tail, nl string
		front, spare                int  // room in front of the piece, capacity after it
		moved                       bool // a slice elsewhere, not in the buffer
		want                        string
		ok                          bool
	}{
		{"CRLF to LF", "H: v\n\n", "a\r\nb\r\n", "", "\n", 8, 0, false, "H: v\n\na\nb\n", true},
		{"LF kept", "H: v\n\n", "a\nb\n", "T\n", "\n", 8, 2, false, "H: v\n\na\nb\nT\n", true},
		{"mixed to LF, CR kept", "H\n\n", "a\r\nb\n\r\r\nc", "", "\n", 3, 0, false, "H\n\na\nb\n\r\nc", true},
		{"CRLF kept", "H: v\r\n\r\n", "a\r\nb\r\n", "--x--\r\n", "\r\n", 8, 7, false, "H: v\r\n\r\na\r\nb\r\n--x--\r\n", true},
		{"head filling the room", "12345678", "a\r\n", "", "\n", 8, 0, false, "12345678a\n", true},
		{"tail from the shrinking", "H", "a\r\nb\r\n", "TT", "\n", 1, 0, false, "Ha\nb\nTT", true},
		{"bare LF under CRLF", "H\r\n\r\n", "a\nb\r\n", "", "\r\n", 16, 16, false, "", false},
		{"head too long", "123456789", "a\r\n", "", "\n", 8, 64, false, "", false},
		{"tail past the capacity", "H", "a\r\n", "TTTT", "\r\n", 1, 3, false, "", false},
		{"not in the buffer", "H", "a\r\n", "", "\n", 8, 0, true, "", false},
		{"empty piece", "H", "", "", "\n", 8, 0, false, "", false},
		{"unknown line ending", "H", "a", "", "\r", 8, 0, false, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			buf := make([]byte, tc.front, tc.front+len(tc.piece)+tc.spare)
			buf = append(buf, tc.piece...)
			p := buf[tc.front:]
			if tc.moved {
				p = []byte(tc.piece)
			}
			before := append([]byte(nil), buf...)
			got, ok := WriteOver(buf, tc.front, []byte(tc.head), p, []byte(tc.tail), tc.nl)
			if ok != tc.ok || string(got) != tc.want {
				t.Fatalf("WriteOver = %q, %v; want %q, %v", got, ok, tc.want, tc.ok)
			}
			if !ok && !bytes.Equal(buf, before) {
				t.Fatalf("the buffer was written: %q", buf)
			}
		})
	}
}

// TestOffsetIn: a slice running to the end of the buffer's length or
// capacity is found where it starts; a copy, an empty slice or a slice
// ending elsewhere is not.
func TestOffsetIn(t *testing.T) {
	buf := make([]byte, 10, 16)
	for _, tc := range []struct {
		name string
		p    []byte
		at   int
		ok   bool
	}{
		{"to the length, cut there", buf[4:10:10], 4, true},
		{"to the capacity", buf[3:10], 3, true},
		{"the whole", buf, 0, true},
		{"ending before the length", buf[2:5:5], 0, false},
		{"a copy", append([]byte(nil), buf[4:]...), 0, false},
		{"empty", buf[10:], 0, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if at, ok := OffsetIn(buf, tc.p); at != tc.at || ok != tc.ok {
				t.Fatalf("OffsetIn = %d, %v; want %d, %v", at, ok, tc.at, tc.ok)
			}
		})
	}
}
