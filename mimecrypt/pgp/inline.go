package pgp

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"io"
	"mime/quotedprintable"
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
// undone (quoted-printable and base64; anything else as is).
func decodeBody(e *rawmime.Entity, max int64) ([]byte, error) {
	var r io.Reader
	switch strings.ToLower(strings.TrimSpace(e.Fields.Get("Content-Transfer-Encoding"))) {
	case "quoted-printable":
		r = quotedprintable.NewReader(bytes.NewReader(e.Body))
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, newlineStripper{bytes.NewReader(e.Body)})
	default:
		return e.Body, nil
	}
	b, err := io.ReadAll(io.LimitReader(r, max+1))
	if err != nil {
		return nil, fmt.Errorf("decode body: %v: %w", err, mimecrypt.ErrMalformed)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("decoded body larger than %d bytes: %w", max, mimecrypt.ErrTooLarge)
	}
	return b, nil
}

// newlineStripper drops CR, LF, spaces and tabs from base64 text.
type newlineStripper struct{ r io.Reader }

func (s newlineStripper) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
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
