package cms

import (
	"fmt"
)

// Normalize checks a BER or DER encoded object against MaxInput and MaxDepth and
// returns it re-encoded with definite, minimal lengths and with constructed
// OCTET STRINGs joined into primitive ones, so that DER parsers (encoding/asn1,
// cryptobyte) can read what BER writers such as NSS and OpenSSL stream out.
// Context-tagged constructed strings are left as they are: whether [0] is an
// implicit OCTET STRING or an explicit wrapper depends on the schema, and the
// parsers in this package join them where the schema says so.
// Trailing bytes after the object are refused.
//
// An object already in that form (what Cloister and most clients write) is
// returned as it is, ber itself, without a copy; any other is written once,
// into a buffer of its final size: a 25 MB envelope costs no copy, or one,
// rather than one per level of nesting. Callers must not modify the result.
func Normalize(ber []byte) ([]byte, error) {
	if len(ber) > MaxInput {
		return nil, fmt.Errorf("%w: %d bytes (limit %d)", ErrTooLarge, len(ber), MaxInput)
	}
	if len(ber) == 0 {
		return nil, fmt.Errorf("%w: empty input", ErrMalformed)
	}
	var m berMeasure
	el, rest, err := m.measure(ber, 0)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes after the object", ErrMalformed, len(rest))
	}
	if el.same {
		return ber[:el.size:el.size], nil
	}
	out := make([]byte, 0, el.size)
	out, _ = m.write(out, ber, false)
	return out, nil
}

// berMeasure is Normalize's first pass: it checks the object and records
// the content length of each constructed element as converted, in the
// order write meets them.
type berMeasure struct {
	contents []int // converted content lengths of the constructed elements, pre-order
	next     int   // the next one write takes
}

// berElement is what measure says of one element once converted.
type berElement struct {
	size    int  // the whole element's length
	content int  // its content's length
	same    bool // the input's bytes of the element are already its converted form
}

// measure checks one element and returns what it becomes, with the rest of
// the input.
func (m *berMeasure) measure(in []byte, depth int) (berElement, []byte, error) {
	if depth > MaxDepth {
		return berElement{}, nil, fmt.Errorf("%w: ASN.1 nesting deeper than %d", ErrTooLarge, MaxDepth)
	}
	id, constructed, length, rest, err := berHeader(in)
	if err != nil {
		return berElement{}, nil, err
	}
	if !constructed {
		el := berElement{content: length}
		el.size = len(id) + lengthSize(length) + length
		consumed := len(in) - len(rest) + length
		el.same = consumed == el.size
		return el, rest[length:], nil
	}
	slot := len(m.contents)
	m.contents = append(m.contents, 0)
	var body []byte
	if length >= 0 {
		body, rest = rest[:length], rest[length:]
	} else {
		body = rest
	}
	octets := len(id) == 1 && id[0] == 0x24 // constructed universal OCTET STRING
	content := 0
	same := length >= 0 && !octets
	for {
		if length < 0 {
			if len(body) >= 2 && body[0] == 0 && body[1] == 0 {
				body = body[2:]
				break
			}
			if len(body) == 0 {
				return berElement{}, nil, fmt.Errorf("%w: missing end-of-contents (truncated)", ErrMalformed)
			}
		} else if len(body) == 0 {
			break
		}
		childID := body[0]
		child, after, err := m.measure(body, depth+1)
		if err != nil {
			return berElement{}, nil, err
		}
		body = after
		if octets {
			// A chunk is a primitive OCTET STRING, or a constructed one
			// (which becomes primitive).
			if childID != 0x04 && childID != 0x24 {
				return berElement{}, nil, fmt.Errorf("%w: constructed OCTET STRING holds a non-string", ErrMalformed)
			}
			content += child.content
		} else {
			content += child.size
		}
		same = same && child.same
		if content > MaxInput {
			return berElement{}, nil, fmt.Errorf("%w: element larger than %d bytes", ErrTooLarge, MaxInput)
		}
	}
	if length < 0 {
		rest = body
	}
	m.contents[slot] = content
	idLen := len(id)
	if octets {
		idLen = 1
	}
	el := berElement{content: content, size: idLen + lengthSize(content) + content}
	el.same = same && len(in)-len(rest) == el.size
	return el, rest, nil
}

// write appends the converted form of the element at the start of in (which
// measure checked) to dst, or only its content when contentOnly (a chunk of
// a constructed OCTET STRING), and returns the rest of the input.
func (m *berMeasure) write(dst, in []byte, contentOnly bool) ([]byte, []byte) {
	id, constructed, length, rest, _ := berHeader(in)
	if !constructed {
		if !contentOnly {
			dst = append(dst, id...)
			dst = appendLength(dst, length)
		}
		return append(dst, rest[:length]...), rest[length:]
	}
	content := m.contents[m.next]
	m.next++
	octets := len(id) == 1 && id[0] == 0x24
	if !contentOnly {
		if octets {
			dst = append(dst, 0x04)
		} else {
			dst = append(dst, id...)
		}
		dst = appendLength(dst, content)
	}
	var body []byte
	if length >= 0 {
		body, rest = rest[:length], rest[length:]
	} else {
		body = rest
	}
	for {
		if length < 0 {
			if body[0] == 0 && body[1] == 0 {
				body = body[2:]
				break
			}
		} else if len(body) == 0 {
			break
		}
		dst, body = m.write(dst, body, octets)
	}
	if length < 0 {
		rest = body
	}
	return dst, rest
}

// lengthSize is the size of the minimal DER length field of n.
func lengthSize(n int) int {
	switch {
	case n < 0x80:
		return 1
	case n < 0x100:
		return 2
	case n < 0x10000:
		return 3
	case n < 0x1000000:
		return 4
	default:
		return 5
	}
}

// berHeader reads one identifier and length. It returns the identifier bytes,
// whether the element is constructed, the content length (-1 for indefinite)
// and the input after the header.
func berHeader(in []byte) (id []byte, constructed bool, length int, rest []byte, err error) {
	if len(in) < 2 {
		return nil, false, 0, nil, fmt.Errorf("%w: truncated element header", ErrMalformed)
	}
	i := 1
	if in[0]&0x1f == 0x1f { // high tag number form
		for {
			if i >= len(in) || i > 5 {
				return nil, false, 0, nil, fmt.Errorf("%w: bad tag", ErrMalformed)
			}
			b := in[i]
			i++
			if b&0x80 == 0 {
				break
			}
		}
	}
	id = in[:i]
	constructed = in[0]&0x20 != 0
	if i >= len(in) {
		return nil, false, 0, nil, fmt.Errorf("%w: truncated length", ErrMalformed)
	}
	l := in[i]
	i++
	switch {
	case l < 0x80:
		length = int(l)
	case l == 0x80:
		if !constructed {
			return nil, false, 0, nil, fmt.Errorf("%w: indefinite length on a primitive element", ErrMalformed)
		}
		length = -1
	default:
		n := int(l & 0x7f)
		if n > 4 {
			return nil, false, 0, nil, fmt.Errorf("%w: length field of %d bytes", ErrTooLarge, n)
		}
		if i+n > len(in) {
			return nil, false, 0, nil, fmt.Errorf("%w: truncated length", ErrMalformed)
		}
		for _, b := range in[i : i+n] {
			length = length<<8 | int(b)
		}
		i += n
		if length > MaxInput {
			return nil, false, 0, nil, fmt.Errorf("%w: element of %d bytes", ErrTooLarge, length)
		}
	}
	rest = in[i:]
	if length > len(rest) {
		return nil, false, 0, nil, fmt.Errorf("%w: element of %d bytes, only %d left (truncated)", ErrMalformed, length, len(rest))
	}
	return id, constructed, length, rest, nil
}

// appendTLVID appends an element with the given identifier bytes, a minimal
// definite length and the content.
func appendTLVID(dst, id, content []byte) []byte {
	dst = append(dst, id...)
	dst = appendLength(dst, len(content))
	return append(dst, content...)
}

// appendLength appends a DER length.
func appendLength(dst []byte, n int) []byte {
	switch {
	case n < 0x80:
		return append(dst, byte(n))
	case n < 0x100:
		return append(dst, 0x81, byte(n))
	case n < 0x10000:
		return append(dst, 0x82, byte(n>>8), byte(n))
	case n < 0x1000000:
		return append(dst, 0x83, byte(n>>16), byte(n>>8), byte(n))
	default:
		return append(dst, 0x84, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	}
}

// tlv returns a DER element with a one-byte tag whose content is the
// concatenation of parts.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := make([]byte, 0, n+6)
	out = append(out, tag)
	out = appendLength(out, n)
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
