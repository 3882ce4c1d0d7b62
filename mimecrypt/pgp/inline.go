package pgp

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
)

// Armor lines that start inline PGP blocks.
const (
	beginMessage = "-----BEGIN PGP MESSAGE-----"
	endMessage   = "-----END PGP MESSAGE-----"
	beginSigned  = "-----BEGIN PGP SIGNED MESSAGE-----"
	endSignature = "-----END PGP SIGNATURE-----"
)

// decodeBody returns the entity's body with its Content-Transfer-Encoding
// undone (rawmime.Decode; an unknown encoding as is).
func decodeBody(e *rawmime.Entity, max int64) ([]byte, error) {
	b, err := e.DecodedBody(max)
	switch {
	case errors.Is(err, rawmime.ErrUnknownEncoding):
		return e.Body, nil
	case errors.Is(err, mimecrypt.ErrTooLarge):
		return nil, err
	case err != nil:
		return nil, fmt.Errorf("decode body: %v: %w", err, mimecrypt.ErrMalformed)
	}
	return b, nil
}

// inlineBlock is an armored block found in a text body.
type inlineBlock struct {
	armor  []byte // the block, indentation removed, blank-looking lines emptied
	kind   string // beginMessage or beginSigned
	alone  bool   // nothing but whitespace around the block
	indent string
}

// findInline finds the first inline PGP block (encrypted or clear-signed) in
// text. Leading indentation, the same on every armor line, is removed, and
// lines holding only whitespace (including no-break spaces that
// quoted-printable encoding left behind) become empty.
func findInline(text []byte) (*inlineBlock, bool) {
	lines := bytes.SplitAfter(text, []byte("\n"))
	start, kind, indent := -1, "", ""
	for i, l := range lines {
		t := strings.TrimRight(string(l), "\r\n")
		trim := strings.TrimLeft(t, " \t>")
		if strings.TrimRight(trim, " \t") == beginMessage || strings.TrimRight(trim, " \t") == beginSigned {
			start, kind, indent = i, strings.TrimRight(trim, " \t"), t[:len(t)-len(trim)]
			break
		}
	}
	if start < 0 {
		return nil, false
	}
	endLine := endMessage
	if kind == beginSigned {
		endLine = endSignature
	}
	end := -1
	var out bytes.Buffer
	for i := start; i < len(lines); i++ {
		t := strings.TrimRight(string(lines[i]), "\r\n")
		t = strings.TrimPrefix(t, indent)
		if isBlank(t) {
			t = ""
		}
		out.WriteString(t)
		out.WriteString("\n")
		if strings.TrimRight(t, " \t") == endLine {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, false
	}
	alone := isBlank(string(bytes.Join(lines[:start], nil))) && isBlank(string(bytes.Join(lines[end+1:], nil)))
	return &inlineBlock{armor: out.Bytes(), kind: kind, alone: alone, indent: indent}, true
}

// isBlank says whether s holds only whitespace, counting no-break spaces
// (UTF-8 or Latin-1) as whitespace.
func isBlank(s string) bool {
	s = strings.ReplaceAll(s, "\u00a0", "")
	s = strings.ReplaceAll(s, "\xa0", "")
	return strings.TrimSpace(s) == ""
}
