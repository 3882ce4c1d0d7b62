package mta

import "bytes"

// lineState is where an encoder stands in the wire form of a message after
// the bytes it has encoded so far. The DATA states follow net/textproto's
// dot-writer, whose output the DATA encoding reproduces byte for byte.
type lineState uint8

const (
	stateBegin     lineState = iota // nothing written yet
	stateBeginLine                  // at the start of a line (after CRLF)
	stateCR                         // wrote a CR that may end a line
	stateData                       // in the middle of a line
	nStates
)

// appendStuffed appends to dst the DATA wire form (RFC 5321 4.5.2) of src,
// which starts in state st, and returns the state after it. Every LF not
// preceded by a CR becomes CRLF and a dot that starts a line is doubled. It
// works on spans between line ends (found with bytes.IndexByte), so a body of
// long lines costs a few calls per line, not one per byte. The output equals
// what net/textproto's dot-writer writes for the same input, including its
// handling of bare CRs (a CR followed by anything but LF is kept as it is,
// and the byte after it is copied without being looked at).
func appendStuffed(dst, src []byte, st lineState) ([]byte, lineState) {
	for len(src) > 0 {
		switch st {
		case stateBegin, stateBeginLine:
			if src[0] == '.' {
				dst = append(dst, '.')
			}
			st = stateData
		case stateCR:
			c := src[0]
			dst = append(dst, c)
			src = src[1:]
			if c == '\n' {
				st = stateBeginLine
			} else {
				st = stateData
			}
		case stateData:
			i := bytes.IndexByte(src, '\n')
			span := src
			if i >= 0 {
				span = src[:i]
			}
			if j := bytes.IndexByte(span, '\r'); j >= 0 {
				// Up to and with the CR; what follows it is judged in stateCR.
				dst = append(dst, src[:j+1]...)
				src = src[j+1:]
				st = stateCR
				continue
			}
			if i < 0 {
				return append(dst, src...), stateData
			}
			dst = append(dst, src[:i]...)
			dst = append(dst, '\r', '\n')
			src = src[i+1:]
			st = stateBeginLine
		}
	}
	return dst, st
}

// dataEnd is what ends the DATA wire form of a message whose encoding stands
// in st: the line is closed (CRLF, or the LF a final CR lacks) and the lone
// dot follows, as net/textproto's dot-writer closes.
func dataEnd(st lineState) []byte {
	switch st {
	case stateBeginLine:
		return []byte(".\r\n")
	case stateCR:
		return []byte("\n.\r\n")
	default: // stateBegin (empty message), stateData
		return []byte("\r\n.\r\n")
	}
}

// appendCRLF appends to dst the BDAT wire form of src: every LF not preceded
// by a CR becomes CRLF, nothing else changes (no dot-stuffing: BDAT counts
// bytes). afterCR says whether the byte before src was a CR; the result says
// whether src's last byte is one.
func appendCRLF(dst, src []byte, afterCR bool) ([]byte, bool) {
	if len(src) == 0 {
		return dst, afterCR
	}
	last := src[len(src)-1] == '\r'
	for len(src) > 0 {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			return append(dst, src...), last
		}
		dst = append(dst, src[:i]...)
		if (i == 0 && !afterCR) || (i > 0 && src[i-1] != '\r') {
			dst = append(dst, '\r')
		}
		dst = append(dst, '\n')
		src = src[i+1:]
		afterCR = false
	}
	return dst, last
}

// stuffedAsIs says whether the DATA wire form of src, starting in state st,
// is src itself (CRLF line ends only, no line starting with a dot: what the
// outgoing runner's copies are), and the state after it. It looks at each
// line end, as appendStuffed does, but copies nothing: a whole copy that
// needs no change is written from its own bytes.
func stuffedAsIs(src []byte, st lineState) (lineState, bool) {
	if len(src) == 0 {
		return st, true
	}
	if st == stateCR || (st != stateData && src[0] == '.') {
		return st, false
	}
	for {
		i := bytes.IndexByte(src, '\n')
		if i < 0 {
			switch bytes.IndexByte(src, '\r') {
			case -1:
				return stateData, true
			case len(src) - 1:
				return stateCR, true
			}
			return st, false
		}
		if i == 0 || src[i-1] != '\r' || bytes.IndexByte(src[:i-1], '\r') >= 0 {
			return st, false
		}
		src = src[i+1:]
		if len(src) == 0 {
			return stateBeginLine, true
		}
		if src[0] == '.' {
			return st, false
		}
	}
}

// crlfAsIs says whether the BDAT wire form of src is src itself (no LF
// without its CR), and whether src ends in a CR.
func crlfAsIs(src []byte, afterCR bool) bool {
	for i, off := bytes.IndexByte(src, '\n'), 0; i >= 0; i = bytes.IndexByte(src[off:], '\n') {
		i += off
		if (i == 0 && !afterCR) || (i > 0 && src[i-1] != '\r') {
			return false
		}
		off = i + 1
	}
	return true
}
