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

// evenBlock is the size of the writes an evenWriter makes.
const evenBlock = 64 << 10

// evenWriter passes what it is given on to w in writes of exactly evenBlock
// bytes, and what is left by flush. go-crypto frames a packet of unknown
// length (literal data, encrypted data) in partial lengths that follow the
// sizes of the writes it gets; fed evenly, the framing, and so the length of
// the encrypted message, depends on the plaintext's length only, not on how
// the post was split into lines and parts. Cover traffic counts on it: a
// dummy padded to a real copy's bucket must be as long as the copy.
type evenWriter struct {
	w   io.Writer
	buf []byte
}

func (e *evenWriter) Write(p []byte) (int, error) {
	n := len(p)
	for len(p) > 0 {
		if e.buf == nil {
			e.buf = make([]byte, 0, evenBlock)
		}
		k := min(len(p), evenBlock-len(e.buf))
		e.buf = append(e.buf, p[:k]...)
		p = p[k:]
		if len(e.buf) == evenBlock {
			if _, err := e.w.Write(e.buf); err != nil {
				return n - len(p), err
			}
			e.buf = e.buf[:0]
		}
	}
	return n, nil
}

// flush writes what is left.
func (e *evenWriter) flush() error {
	if len(e.buf) == 0 {
		return nil
	}
	_, err := e.w.Write(e.buf)
	e.buf = e.buf[:0]
	return err
}
