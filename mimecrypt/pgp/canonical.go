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
	return (&canonicalWriter{w: w}).write(b)
}

// canonicalWriter writes what it is given as rawmime.Canonical returns the
// concatenation of it (every bare LF made CRLF, a CR at the end of one
// write counting for an LF at the start of the next), in chunks of at most
// 64 KB.
type canonicalWriter struct {
	w      io.Writer
	buf    []byte
	prevCR bool
}

func (c *canonicalWriter) write(b []byte) error {
	const chunk = 64 << 10
	if c.buf == nil {
		c.buf = make([]byte, 0, chunk+chunk/2)
	}
	for len(b) > 0 {
		part := b[:min(len(b), chunk)]
		buf := c.buf[:0]
		for len(part) > 0 {
			i := bytes.IndexByte(part, '\n')
			if i < 0 {
				buf = append(buf, part...)
				c.prevCR = part[len(part)-1] == '\r'
				break
			}
			buf = append(buf, part[:i]...)
			if (i == 0 && !c.prevCR) || (i > 0 && part[i-1] != '\r') {
				buf = append(buf, '\r')
			}
			buf = append(buf, '\n')
			c.prevCR = false
			part = part[i+1:]
		}
		if _, err := c.w.Write(buf); err != nil {
			return err
		}
		b = b[min(len(b), chunk):]
	}
	return nil
}
