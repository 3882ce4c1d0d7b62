// Package rawmime splits MIME entities and multipart bodies without
// re-serialising them, so that signed parts can be hashed byte for byte.
package rawmime

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"mime"
	"strings"

	"github.com/emersion/go-message/textproto"
)

// Bounds on one header section. Parse refuses larger headers with an error
// wrapping ErrTooLarge.
const (
	MaxHeaderBytes  = 1 << 20 // total size of one header section
	MaxHeaderFields = 10000   // number of fields in one header section
)

// Entity is one MIME entity split without re-serialisation.
type Entity struct {
	Raw    []byte           // the whole entity, exactly as given
	Header []byte           // the header section, up to but not including the blank line
	Body   []byte           // everything after the blank line
	Fields textproto.Header // parsed header fields
}

// Parse splits raw into its header section and body. Lines may end in LF or
// CRLF. An entity without a blank line is all header and has an empty body;
// one starting with a blank line has no header fields. Header and Body are
// sub-slices of raw.
func Parse(raw []byte) (*Entity, error) {
	end, bodyStart := headerEnd(raw)
	if end > MaxHeaderBytes {
		return nil, fmt.Errorf("header section of %d bytes: %w", end, ErrTooLarge)
	}
	e := &Entity{Raw: raw, Header: raw[:end:end], Body: raw[bodyStart:]}
	if n := countFields(e.Header); n > MaxHeaderFields {
		return nil, fmt.Errorf("header section of %d fields: %w", n, ErrTooLarge)
	}
	if len(e.Header) > 0 {
		src := make([]byte, 0, len(e.Header)+2)
		src = append(append(src, e.Header...), '\r', '\n')
		h, err := textproto.ReadHeader(bufio.NewReader(bytes.NewReader(src)))
		if err != nil {
			return nil, fmt.Errorf("parse header: %v: %w", err, ErrMalformed)
		}
		e.Fields = h
	}
	return e, nil
}

// headerEnd returns the length of the header section (including the line
// break of its last field) and the offset at which the body starts.
func headerEnd(raw []byte) (end, bodyStart int) {
	for i := 0; i < len(raw); {
		switch {
		case raw[i] == '\n':
			return i, i + 1
		case raw[i] == '\r' && i+1 < len(raw) && raw[i+1] == '\n':
			return i, i + 2
		}
		j := bytes.IndexByte(raw[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return len(raw), len(raw)
}

// countFields counts the lines of a header section that do not continue a
// folded field.
func countFields(h []byte) int {
	n := 0
	for i := 0; i < len(h); {
		if h[i] != ' ' && h[i] != '\t' {
			n++
		}
		j := bytes.IndexByte(h[i:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	return n
}

// MediaType returns the entity's lower-cased media type and its parameters
// (keys lower-cased). Without a Content-Type field it returns text/plain with
// charset us-ascii (RFC 2045 5.2). Parameters that cannot be parsed are
// dropped as long as the type itself can be read.
func (e *Entity) MediaType() (string, map[string]string, error) {
	v := e.Fields.Get("Content-Type")
	if strings.TrimSpace(v) == "" {
		return "text/plain", map[string]string{"charset": "us-ascii"}, nil
	}
	mt, params, err := mime.ParseMediaType(v)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return "", nil, fmt.Errorf("content-type %q: %v: %w", v, err, ErrMalformed)
	}
	if err != nil {
		params = lenientParams(v)
	}
	return strings.ToLower(mt), params, nil
}

// lenientParams parses the parameters of a Content-Type value one by one,
// skipping those that do not parse (such as a bare "protected;"), so that
// one broken parameter does not hide the boundary.
func lenientParams(v string) map[string]string {
	params := map[string]string{}
	var segs []string
	quoted, start := false, 0
	for i := 0; i < len(v); i++ {
		switch v[i] {
		case '"':
			quoted = !quoted
		case '\\':
			i++
		case ';':
			if !quoted {
				segs = append(segs, v[start:i])
				start = i + 1
			}
		}
	}
	segs = append(segs, v[start:])
	for _, seg := range segs[1:] {
		if _, p, err := mime.ParseMediaType("x/x;" + seg); err == nil {
			for k, val := range p {
				params[k] = val
			}
		}
	}
	return params
}
