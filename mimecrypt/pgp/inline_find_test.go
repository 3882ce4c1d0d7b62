package pgp

import (
	"bytes"
	"strings"
	"testing"
)

// findInlineBefore is findInline as it was before it measured the block
// first and took the text itself when nothing changed: the reference.
func findInlineBefore(text []byte) (*inlineBlock, bool) {
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

// TestFindInlineAsBefore: findInline finds the block findInlineBefore
// found, with the same armor, kind, indentation and verdict on the text
// around it, for LF and CRLF text, indented and quoted blocks, blank-looking
// lines, a missing end, text around the block and a last line without a
// line break; the armor is a slice of the text exactly when every line of
// the block was already as the armor holds it, and then cannot grow into
// the text after it.
func TestFindInlineAsBefore(t *testing.T) {
	const body = "hQEMA1234\n=abcd\n"
	for _, tc := range []struct {
		name, text string
		alias      bool
	}{
		{"LF", "-----BEGIN PGP MESSAGE-----\n\n" + body + "-----END PGP MESSAGE-----\n", true},
		{"LF, text after", "-----BEGIN PGP MESSAGE-----\n\n" + body + "-----END PGP MESSAGE-----\nmore\n", true},
		{"LF, blank lines around", "\n  \n-----BEGIN PGP MESSAGE-----\n\n" + body + "-----END PGP MESSAGE-----\n\n", true},
		{"CRLF", strings.ReplaceAll("-----BEGIN PGP MESSAGE-----\n\n"+body+"-----END PGP MESSAGE-----\n", "\n", "\r\n"), false},
		{"no final break", "-----BEGIN PGP MESSAGE-----\n\n" + body + "-----END PGP MESSAGE-----", false},
		{"indented", "  -----BEGIN PGP MESSAGE-----\n  \n  hQEMA1234\n  -----END PGP MESSAGE-----\n", false},
		{"quoted", "> -----BEGIN PGP MESSAGE-----\n>\n> hQEMA1234\n> -----END PGP MESSAGE-----\n", false},
		{"blank-looking line", "-----BEGIN PGP MESSAGE-----\n \u00a0\n" + body + "-----END PGP MESSAGE-----\n", false},
		{"trailing blanks on the end line", "-----BEGIN PGP MESSAGE-----\n\n" + body + "-----END PGP MESSAGE-----  \n", true},
		{"doubled CR", "-----BEGIN PGP MESSAGE-----\r\r\n\n" + body + "-----END PGP MESSAGE-----\n", false},
		{"clear-signed", "-----BEGIN PGP SIGNED MESSAGE-----\nHash: SHA256\n\n- dash\ntext\n-----BEGIN PGP SIGNATURE-----\n\nwsBc\n-----END PGP SIGNATURE-----\n", true},
		{"no end", "-----BEGIN PGP MESSAGE-----\n\n" + body, false},
		{"no block", "just text\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			text := []byte(tc.text)
			want, wantOK := findInlineBefore(text)
			got, ok := findInline(text)
			if ok != wantOK {
				t.Fatalf("found %v, before %v", ok, wantOK)
			}
			if !ok {
				return
			}
			if !bytes.Equal(got.armor, want.armor) || got.kind != want.kind || got.alone != want.alone || got.indent != want.indent {
				t.Fatalf("block %q %q alone %v indent %q; before %q %q %v %q", got.armor, got.kind, got.alone, got.indent, want.armor, want.kind, want.alone, want.indent)
			}
			if alias := within(text, got.armor); alias != tc.alias {
				t.Fatalf("armor a slice of the text: %v, want %v", alias, tc.alias)
			}
			if cap(got.armor) != len(got.armor) && within(text, got.armor) {
				t.Fatal("the armor can grow into the text after it")
			}
		})
	}
}

// within reports whether p starts in buf's array.
func within(buf, p []byte) bool {
	for i := range buf {
		if len(p) > 0 && &buf[i] == &p[0] {
			return true
		}
	}
	return false
}
