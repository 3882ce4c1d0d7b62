package mimecrypt

import "bytes"

// OffsetIn returns where p starts in buf when p is a slice of buf's array
// that runs to the end of buf's length or capacity (as the plaintext of a
// message decrypted at the end of buf, or a body parsed from it, does), and
// false when it is not there (a copy, or empty). The answer is checked,
// not assumed: a slice elsewhere is never taken for one in buf.
func OffsetIn(buf, p []byte) (int, bool) {
	if len(p) == 0 {
		return 0, false
	}
	for _, at := range [2]int{len(buf) - cap(p), cap(buf) - cap(p)} {
		if at >= 0 && at+len(p) <= len(buf) && &buf[at] == &p[0] {
			return at, true
		}
	}
	return 0, false
}

// WriteOver writes an opened message over the buffer its decrypted post
// lies in, instead of into a new one, so that for a large post the message
// takes the plaintext's place rather than being a second copy beside it:
// head (the merged header, already in the line ending nl), then p given
// the line ending nl, then tail (already in nl). p must be
// buf[at:at+len(p)]; head and tail must not be slices of buf (callers
// build them apart, copying any field they take from the plaintext).
//
// Moving p down over itself works only when its conversion does not
// lengthen it: nl is "\n" (each CRLF becomes LF, as the openers convert
// for an outer header in LF), or nl is "\r\n" and p has no bare LF (it is
// already CRLF); and head must fit in front of p, the whole within buf's
// capacity. Otherwise, or when p is not at buf[at:], WriteOver writes
// nothing and returns false: the caller then builds the message as a copy,
// whose bytes are the same. On success, buf beyond the message returned
// holds nothing of use, and p must not be read again.
func WriteOver(buf []byte, at int, head, p, tail []byte, nl string) ([]byte, bool) {
	if len(p) == 0 || at < 0 || at+len(p) > len(buf) || &buf[at] != &p[0] {
		return nil, false
	}
	crlf := []byte("\r\n")
	n := len(p) // p's length once converted
	switch nl {
	case "\n":
		n -= bytes.Count(p, crlf)
	case "\r\n":
		if bytes.Count(p, []byte("\n")) != bytes.Count(p, crlf) {
			return nil, false // a bare LF would become CRLF: p grows
		}
	default:
		return nil, false
	}
	if len(head) > at || len(head)+n+len(tail) > cap(buf) {
		return nil, false
	}
	// Writing from the front, the write position never passes the read
	// position: head ends at or before p's start, and each CRLF written
	// as LF widens the gap.
	buf = buf[:cap(buf)]
	w := copy(buf, head)
	if nl == "\n" {
		for {
			i := bytes.Index(p, crlf)
			if i < 0 {
				w += copy(buf[w:], p)
				break
			}
			w += copy(buf[w:], p[:i])
			buf[w] = '\n'
			w++
			p = p[i+2:]
		}
	} else {
		w += copy(buf[w:], p)
	}
	w += copy(buf[w:], tail)
	return buf[:w], true
}
