package mailmsg

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Header fields of the mail Cloister writes itself (notices, replies,
// digests, resend copies, the fields handlers add to posts) are written by
// WriteField and nothing else. Whatever a value holds (a decoded RFC 2047
// word, a display name, a subject, a template field), the field it writes is
// one field: CR, LF, NUL and every other control character become a space,
// lines are folded at 78 characters where the value allows it and never
// exceed 998, and the name is checked against RFC 5322 ftext.

// Limits of written fields (RFC 5322 section 2.1.1).
const (
	foldAt = 78 // preferred line length, without the line ending
)

// Errors returned by WriteField.
var (
	ErrFieldName = errors.New("header field name is not RFC 5322 ftext")
	ErrFieldLong = fmt.Errorf("header field value has a word that cannot be folded into %d bytes", MaxLineLength)
)

// ValidFieldName reports whether name is a field name RFC 5322 allows: one
// or more printable US-ASCII characters other than the colon (ftext).
func ValidFieldName(name string) bool {
	if name == "" || len(name) > MaxLineLength-2 {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

// CleanValue returns v as one line of text: invalid UTF-8 replaced by
// U+FFFD, every control character (C0 including CR, LF, TAB and NUL, DEL,
// C1) and the Unicode line and paragraph separators replaced by a space,
// runs of spaces collapsed to one, and no space at either end. Other
// spaces (a no-break space) are kept.
func CleanValue(v string) string {
	v = strings.ToValidUTF8(v, "\uFFFD")
	var b strings.Builder
	space := false
	for _, r := range v {
		if unicode.IsControl(r) || r == ' ' || r == '\u2028' || r == '\u2029' {
			space = true
			continue
		}
		if space && b.Len() > 0 {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
	}
	return b.String()
}

// WriteField writes one header field, "name: value" and the line ending nl
// ("\n" or "\r\n"; empty means "\r\n"), to w. The value is cleaned
// (CleanValue) and folded at spaces; it is written as it is otherwise, so
// a value that is not ASCII must be encoded by the caller where the field's
// syntax needs it (EncodeText, FormatAddress). Nothing is written when the
// name is not ftext or when a word of the value cannot fit in a line of 998
// bytes.
func WriteField(w io.Writer, name, value, nl string) error {
	if nl == "" {
		nl = "\r\n"
	}
	if !ValidFieldName(name) {
		return fmt.Errorf("%w: %q", ErrFieldName, name)
	}
	var b bytes.Buffer
	b.WriteString(name)
	b.WriteByte(':')
	n := len(name) + 1
	first := true
	for _, word := range strings.Split(CleanValue(value), " ") {
		if word == "" {
			continue
		}
		if !first && n+1+len(word) > foldAt {
			b.WriteString(nl)
			n = 0
		}
		if n+1+len(word) > MaxLineLength {
			if n > 0 {
				// The word fits on a line of its own, or nowhere.
				b.WriteString(nl)
				n = 0
			}
			if 1+len(word) > MaxLineLength {
				return fmt.Errorf("%s: %w", name, ErrFieldLong)
			}
		}
		b.WriteByte(' ')
		b.WriteString(word)
		n += 1 + len(word)
		first = false
	}
	b.WriteString(nl)
	_, err := w.Write(b.Bytes())
	return err
}

// EncodeText returns an unstructured field value (a Subject, a
// Content-Description) for WriteField: v cleaned (CleanValue), and, when it
// holds anything but printable ASCII, a word that looks like an RFC 2047
// encoded word, or a word too long to fold, written whole as RFC 2047
// Q-encoded UTF-8 words of at most 75 characters. An RFC 2047 decoder gives
// back exactly CleanValue(v).
func EncodeText(v string) string {
	v = CleanValue(v)
	if !needsWords(v) {
		return v
	}
	for i := 0; i < len(v); i++ {
		if v[i] >= utf8.RuneSelf {
			// Not ASCII: mime.QEncoding encodes it all, in words of at
			// most 75 characters that never split a character.
			return mime.QEncoding.Encode("utf-8", v)
		}
	}
	return qWords(v)
}

// needsWords reports whether a cleaned value must be written as encoded words.
func needsWords(v string) bool {
	for _, w := range strings.Split(v, " ") {
		// A word longer than foldAt-1 does not fit a folded line (" word").
		if len(w) > foldAt-1 || strings.Contains(w, "=?") || strings.Contains(w, "?=") {
			return true
		}
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return true
		}
	}
	return false
}

// maxWord is the longest encoded word RFC 2047 section 2 allows.
const maxWord = 75

// qWords encodes v as Q-encoded UTF-8 words as mime.QEncoding writes them,
// never splitting a character (RFC 2047 section 5.3), separated by spaces.
// mime.QEncoding leaves plain ASCII alone, which would let a literal
// "=?...?=" through to be decoded by the reader, or a word too long to fold;
// this encoder always encodes.
func qWords(v string) string {
	const open, end = "=?utf-8?q?", "?="
	var out strings.Builder
	var word strings.Builder
	flush := func() {
		if word.Len() == 0 {
			return
		}
		if out.Len() > 0 {
			out.WriteByte(' ')
		}
		out.WriteString(open)
		out.WriteString(word.String())
		out.WriteString(end)
		word.Reset()
	}
	for _, r := range v {
		var enc string
		switch {
		case r == ' ':
			enc = "_"
		case r > ' ' && r <= '~' && r != '=' && r != '?' && r != '_':
			enc = string(r)
		default:
			var buf [utf8.UTFMax]byte
			n := utf8.EncodeRune(buf[:], r)
			var e strings.Builder
			for _, c := range buf[:n] {
				fmt.Fprintf(&e, "=%02X", c)
			}
			enc = e.String()
		}
		if len(open)+word.Len()+len(enc)+len(end) > maxWord {
			flush()
		}
		word.WriteString(enc)
	}
	flush()
	return out.String()
}

// maxDisplayName bounds a display name Cloister writes (a longer one is cut).
const maxDisplayName = 200

// FormatAddress returns a parsed address as an address field value: the
// display name cleaned and cut to 200 bytes, then written by
// mail.Address.String (quoted, or RFC 2047 encoded when not ASCII); an
// address without a name is written as a bare addr-spec.
func FormatAddress(a *mail.Address) string {
	name := CleanValue(a.Name)
	if len(name) > maxDisplayName {
		name = name[:maxDisplayName]
		for !utf8.ValidString(name) {
			name = name[:len(name)-1]
		}
	}
	out := (&mail.Address{Name: name, Address: a.Address}).String()
	if name == "" {
		// A bare addr-spec, as Cloister has always written its own addresses.
		out = strings.TrimSuffix(strings.TrimPrefix(out, "<"), ">")
	}
	return out
}

// FormatAddresses returns the address-list field value of the addresses
// in list (each a bare address or an RFC 5322 mailbox or list, as found in a
// field or an envelope), each parsed and written again by FormatAddress.
// An element that does not parse is an error: a field is never built from
// text that is not an address.
func FormatAddresses(list ...string) (string, error) {
	var out []string
	for _, s := range list {
		addrs, err := ParseAddressList(s)
		if err != nil {
			return "", fmt.Errorf("address %q: %w", CleanValue(s), err)
		}
		for _, a := range addrs {
			out = append(out, FormatAddress(a))
		}
	}
	if len(out) == 0 {
		return "", errors.New("no address")
	}
	return strings.Join(out, ", "), nil
}

// MsgIDs returns the message identifiers ("<left@right>") found in a
// Message-ID, In-Reply-To or References value, separated by spaces, leaving
// out anything that is not one: comments, phrases, and identifiers holding
// spaces, controls, non-ASCII or angle brackets.
func MsgIDs(v string) string {
	var ids []string
	for {
		i := strings.IndexByte(v, '<')
		if i < 0 {
			break
		}
		v = v[i+1:]
		j := strings.IndexAny(v, "<>")
		if j < 0 {
			break
		}
		if v[j] == '<' {
			continue
		}
		id := v[:j]
		v = v[j+1:]
		if validMsgID(id) {
			ids = append(ids, "<"+id+">")
		}
	}
	return strings.Join(ids, " ")
}

func validMsgID(id string) bool {
	if id == "" || len(id) > MaxLineLength-20 || !strings.Contains(id, "@") {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; c <= ' ' || c > '~' {
			return false
		}
	}
	return true
}

// HeaderWriter writes the header section of a message Cloister writes
// itself, one field at a time, each by WriteField. A field that cannot be
// written safely (an address that does not parse, a name that is not
// ftext) is left out and the first such error is kept for Err.
type HeaderWriter struct {
	// NL is the line ending: "\n" (the queue's) or "\r\n" (the default).
	NL  string
	buf bytes.Buffer
	err error
}

// NewHeaderWriter returns a HeaderWriter using the line ending nl.
func NewHeaderWriter(nl string) *HeaderWriter {
	return &HeaderWriter{NL: nl}
}

func (h *HeaderWriter) keep(err error) {
	if err != nil && h.err == nil {
		h.err = err
	}
}

// Field writes a structured value Cloister composed itself (a Date, a
// Content-Type, a List-Id): cleaned and folded, not encoded.
func (h *HeaderWriter) Field(name, value string) {
	h.keep(WriteField(&h.buf, name, value, h.NL))
}

// Text writes an unstructured value (a Subject) from any source: cleaned,
// RFC 2047 encoded when needed (EncodeText), folded.
func (h *HeaderWriter) Text(name, value string) {
	h.keep(WriteField(&h.buf, name, EncodeText(value), h.NL))
}

// Address writes an address field from addresses in any form (see
// FormatAddresses). Empty addresses are skipped; when none is left, or one
// does not parse, the field is left out.
func (h *HeaderWriter) Address(name string, addrs ...string) {
	var list []string
	for _, a := range addrs {
		if strings.TrimSpace(a) != "" {
			list = append(list, a)
		}
	}
	if len(list) == 0 {
		return
	}
	v, err := FormatAddresses(list...)
	if err != nil {
		h.keep(fmt.Errorf("%s: %w", name, err))
		return
	}
	h.keep(WriteField(&h.buf, name, v, h.NL))
}

// MsgID writes a Message-ID, In-Reply-To or References field with the
// identifiers of value (MsgIDs); with none, the field is left out.
func (h *HeaderWriter) MsgID(name, value string) {
	if ids := MsgIDs(value); ids != "" {
		h.keep(WriteField(&h.buf, name, ids, h.NL))
	}
}

// Bytes returns the fields written so far (without the empty line that ends
// a header section).
func (h *HeaderWriter) Bytes() []byte { return h.buf.Bytes() }

// String returns the fields written so far as a string.
func (h *HeaderWriter) String() string { return h.buf.String() }

// Err returns the first field that was left out, and why.
func (h *HeaderWriter) Err() error { return h.err }

// OneField reports whether raw (one header field as read, with its folding
// and line ending) is exactly one well-formed field: a valid name and a
// colon, lines ending in LF or CRLF, every line after the first starting with
// a space or a tab, no other CR, no empty line, and no control character but
// the tab. A raw field Cloister moves to another header (a protected Subject
// copied out of an encryption) is written again by WriteField when it is not.
func OneField(raw []byte) bool {
	i := bytes.IndexByte(raw, ':')
	if i <= 0 || !ValidFieldName(string(bytes.TrimRight(raw[:i], " \t"))) {
		return false
	}
	lines := bytes.SplitAfter(raw, []byte("\n"))
	if len(lines[len(lines)-1]) == 0 {
		lines = lines[:len(lines)-1]
	}
	for n, line := range lines {
		content := bytes.TrimSuffix(bytes.TrimSuffix(line, []byte("\n")), []byte("\r"))
		if n > 0 && (len(content) == 0 || (content[0] != ' ' && content[0] != '\t')) {
			return false
		}
		if len(content) > MaxLineLength || len(bytes.TrimSpace(content)) == 0 {
			return false
		}
		for _, c := range content {
			if (c < 0x20 && c != '\t') || c == 0x7f {
				return false
			}
		}
	}
	return true
}
