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
	armor  []byte // the block, indentation removed, blank-looking lines emptied (a slice of the text when that changed nothing)
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
	// The block is found, and measured, before it is copied: when each of
	// its lines is already as the armor holds it (no indentation, LF line
	// endings, no blank-looking line), the armor is the text itself, and a
	// large post is not copied.
	end, size, same := -1, 0, true
	for i := start; i < len(lines); i++ {
		t := blockLine(lines[i], indent)
		size += len(t) + 1
		// Only the LF was taken off the line, so t is the line before it.
		same = same && len(lines[i]) == len(t)+1 && lines[i][len(t)] == '\n'
		if strings.TrimRight(t, " \t") == endLine {
			end = i
			break
		}
	}
	if end < 0 {
		return nil, false
	}
	var armor []byte
	if same {
		off := 0
		for _, l := range lines[:start] {
			off += len(l)
		}
		armor = text[off : off+size : off+size]
	} else {
		armor = make([]byte, 0, size)
		for _, l := range lines[start : end+1] {
			armor = append(append(armor, blockLine(l, indent)...), '\n')
		}
	}
	alone := isBlank(string(bytes.Join(lines[:start], nil))) && isBlank(string(bytes.Join(lines[end+1:], nil)))
	return &inlineBlock{armor: armor, kind: kind, alone: alone, indent: indent}, true
}

// blockLine is a line of an inline block as its armor holds it: without
// its line ending, the block's indentation taken off, and empty when it
// holds only whitespace.
func blockLine(l []byte, indent string) string {
	t := strings.TrimRight(string(l), "\r\n")
	t = strings.TrimPrefix(t, indent)
	if isBlank(t) {
		t = ""
	}
	return t
}

// isBlank says whether s holds only whitespace, counting no-break spaces
// (UTF-8 or Latin-1) as whitespace.
func isBlank(s string) bool {
	s = strings.ReplaceAll(s, "\u00a0", "")
	s = strings.ReplaceAll(s, "\xa0", "")
	return strings.TrimSpace(s) == ""
}
