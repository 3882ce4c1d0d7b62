// Package mailmsg splits an Internet message into its header fields and body
// without re-serialising either: fields that are not touched are written back
// byte for byte, new fields use the message's own line ending, and the body is
// never rewritten (signatures depend on its bytes).
package mailmsg

import (
	"bytes"
	"errors"
	"fmt"
	"mime"
	"net/mail"
	"strings"
)

// Limits applied while parsing a header section.
const (
	MaxHeaderBytes = 1 << 20 // the whole header section
	MaxFields      = 2000
	MaxLineLength  = 998 // RFC 5322 section 2.1.1, without the line ending
)

// Errors returned by Parse. They are meant to be shown to operators and senders.
var (
	ErrNoHeader     = errors.New("message has no header section")
	ErrHeaderSize   = fmt.Errorf("header section exceeds %d bytes or %d fields", MaxHeaderBytes, MaxFields)
	ErrLongLine     = fmt.Errorf("header line exceeds %d bytes", MaxLineLength)
	ErrBadFieldName = errors.New("header field without a valid name")
)

// Field is one header field with its raw bytes (including folding and the line ending).
type Field struct {
	Name string // as written
	Raw  []byte // nil for a field added by Cloister until it is serialised
	val  string
}

// Value returns the unfolded value with surrounding whitespace trimmed.
func (f *Field) Value() string {
	if f.Raw == nil {
		return f.val
	}
	i := bytes.IndexByte(f.Raw, ':')
	v := string(f.Raw[i+1:])
	v = strings.NewReplacer("\r\n", "", "\n", "").Replace(v)
	return strings.TrimSpace(v)
}

// Message is a parsed message: header fields in order, and the body bytes.
type Message struct {
	Fields []*Field
	Body   []byte
	NL     string // the line ending the header uses: "\n" or "\r\n"
}

// Parse splits raw at the first empty line. A message with no empty line is
// all header (and an empty body). Fields keep their raw bytes.
func Parse(raw []byte) (*Message, error) {
	if len(raw) == 0 {
		return nil, ErrNoHeader
	}
	m := &Message{NL: "\n"}
	if i := bytes.IndexByte(raw, '\n'); i > 0 && raw[i-1] == '\r' {
		m.NL = "\r\n"
	}
	pos := 0
	var cur *Field
	for pos < len(raw) {
		end := bytes.IndexByte(raw[pos:], '\n')
		var line []byte
		if end < 0 {
			line = raw[pos:]
			end = len(raw)
		} else {
			end = pos + end + 1
			line = raw[pos:end]
		}
		content := bytes.TrimRight(line, "\r\n")
		if len(content) == 0 {
			m.Body = raw[end:]
			return m, nil
		}
		if len(content) > MaxLineLength {
			return nil, ErrLongLine
		}
		if end > MaxHeaderBytes || len(m.Fields) > MaxFields {
			return nil, ErrHeaderSize
		}
		if content[0] == ' ' || content[0] == '\t' {
			if cur == nil {
				return nil, ErrBadFieldName
			}
			cur.Raw = raw[pos-len(cur.Raw) : end]
		} else {
			colon := bytes.IndexByte(content, ':')
			if colon <= 0 || bytes.ContainsAny(bytes.TrimRight(content[:colon], " \t"), " \t") {
				if pos == 0 && bytes.HasPrefix(content, []byte("From ")) {
					return nil, fmt.Errorf("%w: the message starts with an mbox From_ line", ErrBadFieldName)
				}
				return nil, fmt.Errorf("%w: %.40q", ErrBadFieldName, content)
			}
			cur = &Field{Name: string(bytes.TrimRight(content[:colon], " \t")), Raw: raw[pos:end]}
			m.Fields = append(m.Fields, cur)
		}
		pos = end
	}
	m.Body = nil
	return m, nil
}

// Get returns the value of the first field with the name (case-insensitive), or "".
func (m *Message) Get(name string) string {
	for _, f := range m.Fields {
		if strings.EqualFold(f.Name, name) {
			return f.Value()
		}
	}
	return ""
}

// Values returns the values of every field with the name.
func (m *Message) Values(name string) []string {
	var out []string
	for _, f := range m.Fields {
		if strings.EqualFold(f.Name, name) {
			out = append(out, f.Value())
		}
	}
	return out
}

// Has reports whether a field with the name exists.
func (m *Message) Has(name string) bool {
	for _, f := range m.Fields {
		if strings.EqualFold(f.Name, name) {
			return true
		}
	}
	return false
}

// Del removes every field with the name.
func (m *Message) Del(name string) {
	out := m.Fields[:0]
	for _, f := range m.Fields {
		if !strings.EqualFold(f.Name, name) {
			out = append(out, f)
		}
	}
	m.Fields = out
}

// Add appends a field at the end of the header. Control characters in the
// value (line breaks among them) become spaces; the value is otherwise
// written as it is, so a caller encodes text that is not ASCII (EncodeText,
// FormatAddress) where the field's syntax needs it.
func (m *Message) Add(name, value string) {
	m.Fields = append(m.Fields, &Field{Name: name, val: clean(value)})
}

// Prepend inserts a field at the top of the header (as trace fields are).
func (m *Message) Prepend(name, value string) {
	m.Fields = append([]*Field{{Name: name, val: clean(value)}}, m.Fields...)
}

// Set replaces every field with the name by one field, at the position of the
// first one (or at the end).
func (m *Message) Set(name, value string) {
	for i, f := range m.Fields {
		if strings.EqualFold(f.Name, name) {
			nf := &Field{Name: name, val: clean(value)}
			rest := m.Fields[i+1:]
			m.Fields = append(m.Fields[:i:i], nf)
			for _, g := range rest {
				if !strings.EqualFold(g.Name, name) {
					m.Fields = append(m.Fields, g)
				}
			}
			return
		}
	}
	m.Add(name, value)
}

// clean makes a value Cloister adds one line of text (see CleanValue).
func clean(v string) string { return CleanValue(v) }

// HeaderBytes serialises the header section including the empty line.
// Fields parsed from the message are written byte for byte; fields added by
// Add, Set or Prepend are written by WriteField (one line of text, folded),
// and one WriteField refuses (a name that is not ftext, a word longer than
// a line) is left out.
func (m *Message) HeaderBytes() []byte {
	var b bytes.Buffer
	for _, f := range m.Fields {
		if f.Raw != nil {
			b.Write(f.Raw)
			if !bytes.HasSuffix(f.Raw, []byte("\n")) {
				b.WriteString(m.NL)
			}
			continue
		}
		_ = WriteField(&b, f.Name, f.val, m.NL) // refused fields are left out, as documented
	}
	b.WriteString(m.NL)
	return b.Bytes()
}

// Bytes serialises the message: header fields, empty line, body unchanged.
func (m *Message) Bytes() []byte {
	h := m.HeaderBytes()
	out := make([]byte, 0, len(h)+len(m.Body))
	return append(append(out, h...), m.Body...)
}

// FromAddress returns the single address of the From field, lower-cased. Two
// From fields, or a From with several addresses, is an error: the signer cannot
// be bound to it.
func (m *Message) FromAddress() (string, error) {
	vals := m.Values("From")
	if len(vals) == 0 {
		return "", errors.New("message has no From field")
	}
	if len(vals) > 1 {
		return "", errors.New("message has more than one From field")
	}
	addrs, err := ParseAddressList(vals[0])
	if err != nil {
		return "", fmt.Errorf("from field: %w", err)
	}
	if len(addrs) != 1 {
		return "", errors.New("from field must hold exactly one address")
	}
	return strings.ToLower(addrs[0].Address), nil
}

var addrParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{CharsetReader: charsetReader}}

// ParseAddressList parses an address-list field value, decoding RFC 2047 names.
func ParseAddressList(v string) ([]*mail.Address, error) {
	return addrParser.ParseList(v)
}

// Addresses returns the lower-cased addresses of every named field (To, Cc, ...), skipping unparsable ones.
func (m *Message) Addresses(names ...string) []string {
	var out []string
	for _, n := range names {
		for _, v := range m.Values(n) {
			list, err := ParseAddressList(v)
			if err != nil {
				continue
			}
			for _, a := range list {
				out = append(out, strings.ToLower(a.Address))
			}
		}
	}
	return out
}

// DecodeHeader decodes RFC 2047 encoded words in a field value; undecodable
// values are returned as they are.
func DecodeHeader(v string) string {
	d := mime.WordDecoder{CharsetReader: charsetReader}
	s, err := d.DecodeHeader(v)
	if err != nil {
		return v
	}
	return s
}
