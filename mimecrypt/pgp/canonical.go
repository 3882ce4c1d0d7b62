package pgp

import (
	"bytes"
	"io"
)

// bareLFs counts the LFs of b without a CR before them.
func bareLFs(b []byte) int {
	n := 0
	for i, off := bytes.IndexByte(b, '\n'), 0; i >= 0; i = bytes.IndexByte(b[off:], '\n') {
		i += off
		if i == 0 || b[i-1] != '\r' {
			n++
		}
		off = i + 1
	}
	return n
}

// writeCanonical writes b to w as rawmime.Canonical returns it (every bare
// LF made CRLF), in chunks of at most 64 KB, without a whole copy of b.
func writeCanonical(w io.Writer, b []byte) error {
	const chunk = 64 << 10
	buf := make([]byte, 0, chunk+chunk/2)
	prevCR := false
	for len(b) > 0 {
		part := b[:min(len(b), chunk)]
		buf = buf[:0]
		for len(part) > 0 {
			i := bytes.IndexByte(part, '\n')
			if i < 0 {
				buf = append(buf, part...)
				prevCR = part[len(part)-1] == '\r'
				part = nil
				break
			}
			buf = append(buf, part[:i]...)
			if (i == 0 && !prevCR) || (i > 0 && part[i-1] != '\r') {
				buf = append(buf, '\r')
			}
			buf = append(buf, '\n')
			prevCR = false
			part = part[i+1:]
		}
		if _, err := w.Write(buf); err != nil {
			return err
		}
		b = b[min(len(b), chunk):]
	}
	return nil
}
