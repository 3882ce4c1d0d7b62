package rawmime

import (
	"bytes"
	"errors"
	"fmt"
)

// ErrTruncated means a multipart body ends without its close delimiter. It
// wraps ErrMalformed.
var ErrTruncated = fmt.Errorf("multipart body has no close delimiter: %w", ErrMalformed)

// ErrNoDelimiter means a multipart body holds no delimiter line for its
// boundary. It wraps ErrMalformed.
var ErrNoDelimiter = fmt.Errorf("multipart body has no delimiter for its boundary: %w", ErrMalformed)

// SplitMultipart returns the raw bytes of each body part of a multipart body
// with the given boundary, as sub-slices of body. Following RFC 2046 5.1.1 the
// line break before a delimiter line belongs to the delimiter, not to the
// part; delimiter lines may end in spaces or tabs. The preamble and epilogue
// are dropped. A body without a close delimiter gives ErrTruncated together
// with the parts found (the last one running to the end of the body, dropped
// when blank), for callers that repair mangled messages; more than maxParts
// parts give an error wrapping ErrTooLarge.
func SplitMultipart(body []byte, boundary string, maxParts int) ([][]byte, error) {
	if boundary == "" {
		return nil, fmt.Errorf("empty multipart boundary: %w", ErrMalformed)
	}
	dash := []byte("--" + boundary)
	var parts [][]byte
	start := -1 // start of the current part, -1 while in the preamble
	for pos := 0; pos <= len(body); {
		i := bytes.Index(body[pos:], dash)
		if i < 0 {
			break
		}
		i += pos
		lineStart := i == 0 || body[i-1] == '\n'
		rest, closing, ok := delimiterTail(body[i+len(dash):])
		if !lineStart || !ok {
			pos = i + 1
			continue
		}
		if start >= 0 {
			end := i
			if end > 0 && body[end-1] == '\n' {
				end--
				if end > 0 && body[end-1] == '\r' {
					end--
				}
			}
			if end < start {
				end = start
			}
			if len(parts) >= maxParts {
				return nil, fmt.Errorf("multipart body has more than %d parts: %w", maxParts, ErrTooLarge)
			}
			parts = append(parts, body[start:end:end])
		}
		if closing {
			return parts, nil
		}
		start = len(body) - len(rest)
		pos = start
	}
	if start < 0 {
		return nil, ErrNoDelimiter
	}
	if last := body[start:]; len(bytes.TrimSpace(last)) > 0 {
		if len(parts) >= maxParts {
			return nil, fmt.Errorf("multipart body has more than %d parts: %w", maxParts, ErrTooLarge)
		}
		parts = append(parts, last)
	}
	return parts, ErrTruncated
}

// delimiterTail checks what follows "--boundary" on a delimiter line: an
// optional "--" (close delimiter), optional spaces or tabs, then a line break
// or the end of the body. It returns the bytes after the line break.
func delimiterTail(b []byte) (rest []byte, closing, ok bool) {
	if len(b) >= 2 && b[0] == '-' && b[1] == '-' {
		closing = true
		b = b[2:]
	}
	for len(b) > 0 && (b[0] == ' ' || b[0] == '\t') {
		b = b[1:]
	}
	switch {
	case len(b) == 0:
		return b, closing, true
	case b[0] == '\n':
		return b[1:], closing, true
	case b[0] == '\r' && len(b) >= 2 && b[1] == '\n':
		return b[2:], closing, true
	case b[0] == '\r' && len(b) == 1:
		return b[1:], closing, true
	}
	return nil, false, false
}

// Canonical returns b with every bare LF turned into CRLF; existing CRLF pairs
// are kept. It returns b itself when nothing needs to change. Signed parts are
// hashed in this form (RFC 3156 5, RFC 8551 3.1.1).
func Canonical(b []byte) []byte {
	bare := 0
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			bare++
		}
	}
	if bare == 0 {
		return b
	}
	out := make([]byte, 0, len(b)+bare)
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	return out
}

// SkipChildren may be returned by a Walk callback to leave a multipart's
// children unvisited; Walk goes on with the next sibling.
//
//lint:ignore ST1012 a control value like fs.SkipDir, not an error: the name says what it asks for
var SkipChildren = errors.New("skip this entity's children")
