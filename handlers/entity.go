package handlers

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"sort"
	"strings"

	"github.com/emersion/go-message"
	_ "github.com/emersion/go-message/charset" // decode the common charsets when reading text parts
	"github.com/emersion/go-message/textproto"

	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
)

// Bounds on the MIME trees handlers take apart.
const (
	maxDepth       = 20
	maxParts       = 500
	maxDecodedText = 4 << 20 // text decoded to look for armor or to convert
)

// part is one MIME entity of a post, split without re-serialisation: an
// untouched part is written back from raw, byte for byte.
type part struct {
	raw      []byte           // the whole entity as given (nil for the top level)
	header   []byte           // raw header section (with its last line break)
	fields   textproto.Header // parsed header fields
	body     []byte
	mt       string
	params   map[string]string
	children []*part // for a multipart that could be split
	broken   bool    // a multipart whose body could not be split
	changed  bool    // children were edited: the body must be rebuilt
}

// errTooComplex is returned for trees over the bounds.
var errTooComplex = errors.New("MIME structure too deep or with too many parts")

// parseTree splits the message into its MIME tree. The top part's header
// holds the message's Content-* fields only: the other fields say nothing
// about the content, and an odd one must not make the content unreadable.
func parseTree(m *mailmsg.Message) (*part, error) {
	var b bytes.Buffer
	for _, f := range m.Fields {
		if isContentField(f.Name) {
			b.Write(fieldBytes(f, m.NL))
		}
	}
	b.WriteString(m.NL)
	// The header is parsed alone and the body taken as it is: a large
	// post is not copied to be parsed.
	e, err := rawmime.Parse(b.Bytes())
	if err != nil {
		return nil, fmt.Errorf("parse message: %w", err)
	}
	e.Body = m.Body
	count := 0
	top := fromEntity(e, true)
	if err := top.split(0, &count); err != nil {
		return nil, err
	}
	return top, nil
}

func fromEntity(e *rawmime.Entity, top bool) *part {
	p := &part{raw: e.Raw, header: e.Header, fields: e.Fields, body: e.Body}
	if top {
		p.raw = nil
	}
	mt, params, err := e.MediaType()
	if err != nil {
		mt, params = "application/octet-stream", map[string]string{}
	}
	p.mt, p.params = mt, params
	return p
}

// split fills in the children of multipart entities, recursively.
func (p *part) split(depth int, count *int) error {
	*count++
	if *count > maxParts {
		return errTooComplex
	}
	if !strings.HasPrefix(p.mt, "multipart/") {
		return nil
	}
	if depth >= maxDepth {
		return errTooComplex
	}
	raws, err := rawmime.SplitMultipart(p.body, p.params["boundary"], maxParts)
	if err != nil {
		p.broken = true
		return nil
	}
	for _, r := range raws {
		e, err := rawmime.Parse(r)
		if err != nil {
			p.broken = true
			p.children = nil
			return nil
		}
		c := fromEntity(e, false)
		if err := c.split(depth+1, count); err != nil {
			return err
		}
		p.children = append(p.children, c)
	}
	return nil
}

// bytes returns the entity as it is now (header, blank line, body).
func (p *part) bytes(nl string) []byte {
	if !p.changed && p.raw != nil {
		return p.raw
	}
	var b bytes.Buffer
	b.Write(p.header)
	b.WriteString(nl)
	b.Write(p.bodyBytes(nl))
	return b.Bytes()
}

// bodyBytes returns the body, rebuilt from the children when they changed.
// The preamble and the close delimiter line with the epilogue are kept.
func (p *part) bodyBytes(nl string) []byte {
	if !p.changed || p.children == nil {
		return p.body
	}
	bd := p.params["boundary"]
	var b bytes.Buffer
	b.Write(p.body[:delimiterStart(p.body, "--"+bd)])
	for _, c := range p.children {
		b.WriteString("--" + bd + nl)
		b.Write(c.bytes(nl))
		b.WriteString(nl)
	}
	if i := delimiterStart(p.body, "--"+bd+"--"); i < len(p.body) {
		b.Write(p.body[i:])
	} else {
		b.WriteString("--" + bd + "--" + nl)
	}
	return b.Bytes()
}

// delimiterStart returns the offset of the first line of body that is the
// delimiter (followed only by blanks or a line break; with "--" appended, the
// close delimiter), or len(body) if there is none.
func delimiterStart(body []byte, delim string) int {
	d := []byte(delim)
	for from := 0; from < len(body); {
		i := bytes.Index(body[from:], d)
		if i < 0 {
			break
		}
		i += from
		if i == 0 || body[i-1] == '\n' {
			rest := bytes.TrimLeft(body[i+len(d):], " \t")
			if len(rest) == 0 || rest[0] == '\r' || rest[0] == '\n' {
				return i
			}
		}
		from = i + 1
	}
	return len(body)
}

// cte returns the part's Content-Transfer-Encoding, lower-cased ("7bit" when absent).
func (p *part) cte() string {
	v := strings.ToLower(strings.TrimSpace(p.fields.Get("Content-Transfer-Encoding")))
	if v == "" {
		return "7bit"
	}
	return v
}

// decoded returns the body with its transfer encoding undone (not its charset).
func (p *part) decoded() ([]byte, error) {
	return decodeCTE(p.cte(), p.body)
}

// text returns a text part's content decoded to UTF-8.
func (p *part) text() (string, error) {
	h := message.Header{Header: p.fields.Copy()}
	e, err := message.New(h, bytes.NewReader(p.body))
	if err != nil && !message.IsUnknownCharset(err) {
		return "", fmt.Errorf("read %s part: %w", p.mt, err)
	}
	b, err := io.ReadAll(io.LimitReader(e.Body, maxDecodedText+1))
	if err != nil {
		return "", fmt.Errorf("decode %s part: %w", p.mt, err)
	}
	if len(b) > maxDecodedText {
		return "", fmt.Errorf("%s part larger than %d bytes", p.mt, maxDecodedText)
	}
	return strings.ToValidUTF8(string(b), "\uFFFD"), nil
}

// filename returns the part's file name, if it has one.
func (p *part) filename() string {
	if _, params, err := mime.ParseMediaType(p.fields.Get("Content-Disposition")); err == nil && params["filename"] != "" {
		return params["filename"]
	}
	return p.params["name"]
}

// decodeCTE undoes a transfer encoding (rawmime.Decode); unknown encodings
// are an error.
func decodeCTE(cte string, body []byte) ([]byte, error) {
	b, err := rawmime.Decode(cte, body, 0)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// encodeCTE applies a transfer encoding with lines ending in nl.
func encodeCTE(cte string, data []byte, nl string) []byte {
	switch cte {
	case "quoted-printable":
		var b bytes.Buffer
		w := quotedprintable.NewWriter(&b)
		w.Write(data)
		w.Close()
		return withNL(b.Bytes(), nl)
	case "base64":
		s := base64.StdEncoding.EncodeToString(data)
		var b bytes.Buffer
		for len(s) > 76 {
			b.WriteString(s[:76] + nl)
			s = s[76:]
		}
		if s != "" {
			b.WriteString(s + nl)
		}
		return b.Bytes()
	}
	return withNL(data, nl)
}

// withNL rewrites every line ending of generated text to nl.
func withNL(b []byte, nl string) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	if nl == "\r\n" {
		b = bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n"))
	}
	return b
}

// Media types whose content is signed or encrypted: a handler that edits
// content must leave them alone.
var sealedTypes = map[string]bool{
	"multipart/signed":              true,
	"multipart/encrypted":           true,
	"application/pkcs7-mime":        true,
	"application/x-pkcs7-mime":      true,
	"application/pkcs7-signature":   true,
	"application/x-pkcs7-signature": true,
	"application/pgp-encrypted":     true,
	"application/pgp-signature":     true,
	"application/pgp":               true,
}

// armor markers of inline OpenPGP content.
var armorMarkers = [][]byte{
	[]byte("-----BEGIN PGP SIGNED MESSAGE-----"),
	[]byte("-----BEGIN PGP MESSAGE-----"),
	[]byte("-----BEGIN PGP SIGNATURE-----"),
}

// sealed reports whether the tree holds signed or encrypted content
// anywhere (MIME security multiparts, CMS objects or inline OpenPGP armor),
// or a part that cannot be read well enough to tell.
func (p *part) sealed() bool {
	if sealedTypes[p.mt] || p.broken {
		return true
	}
	for _, c := range p.children {
		if c.sealed() {
			return true
		}
	}
	if p.children == nil && (strings.HasPrefix(p.mt, "text/") || p.mt == "application/octet-stream") {
		d, err := p.decoded()
		if err != nil {
			return true
		}
		for _, m := range armorMarkers {
			if hasLineStarting(d, m) {
				return true
			}
		}
	}
	return false
}

// newBoundary returns a boundary derived from content (so that the output is
// reproducible) that does not occur in it.
func newBoundary(content []byte, salt string) string {
	for i := 0; ; i++ {
		sum := sha256.Sum256(append([]byte(fmt.Sprintf("%s/%d/", salt, i)), content...))
		b := "=_cloister_" + hex.EncodeToString(sum[:12])
		if !bytes.Contains(content, []byte(b)) {
			return b
		}
	}
}

// textPart builds a new text/plain UTF-8 part holding text (7bit when it
// is ASCII, quoted-printable otherwise) with lines ending in nl.
func textPart(text, nl string, extra map[string]string) []byte {
	text = strings.ReplaceAll(text, "\r\n", "\n")
	cte := "7bit"
	if !isASCII(text) {
		cte = "quoted-printable"
	}
	var b bytes.Buffer
	b.WriteString("Content-Type: " + mime.FormatMediaType("text/plain", map[string]string{"charset": "utf-8"}) + nl)
	b.WriteString("Content-Transfer-Encoding: " + cte + nl)
	b.WriteString("Content-Disposition: inline" + nl)
	keys := make([]string, 0, len(extra))
	for k := range extra {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		b.WriteString(k + ": " + mime.QEncoding.Encode("utf-8", extra[k]) + nl)
	}
	b.WriteString(nl)
	b.Write(encodeCTE(cte, []byte(text), nl))
	return b.Bytes()
}

// isContentField reports whether a header field describes the content of
// an entity (Content-*): those move into the first part when a post is
// wrapped in a multipart.
func isContentField(name string) bool {
	n := strings.ToLower(name)
	return strings.HasPrefix(n, "content-")
}

// wrapMixed turns the message's content into the first part of a new
// multipart/mixed and appends the extra parts (complete entities). The
// original content's bytes are kept exactly.
func wrapMixed(m *mailmsg.Message, extra ...[]byte) { wrapMixedAround(m, nil, extra) }

// wrapMixedAfter is wrapMixed with the new part first and the original
// content after it.
func wrapMixedAfter(m *mailmsg.Message, first []byte) { wrapMixedAround(m, [][]byte{first}, nil) }

// wrapMixedAround turns the message's content into a part of a new
// multipart/mixed, between the before and the after parts.
func wrapMixedAround(m *mailmsg.Message, before, extra [][]byte) {
	var first bytes.Buffer
	keep := m.Fields[:0:0]
	for _, f := range m.Fields {
		if isContentField(f.Name) {
			first.Write(fieldBytes(f, m.NL))
		} else {
			keep = append(keep, f)
		}
	}
	first.WriteString(m.NL)
	first.Write(m.Body)
	all := append([]byte(nil), first.Bytes()...)
	for _, e := range append(before, extra...) {
		all = append(all, e...)
	}
	bd := newBoundary(all, "mixed")
	var b bytes.Buffer
	b.WriteString("This is a multi-part message in MIME format." + m.NL)
	for _, e := range before {
		b.WriteString("--" + bd + m.NL)
		b.Write(e)
		b.WriteString(m.NL)
	}
	b.WriteString("--" + bd + m.NL)
	b.Write(first.Bytes())
	for _, e := range extra {
		b.WriteString(m.NL + "--" + bd + m.NL)
		b.Write(e)
	}
	b.WriteString(m.NL + "--" + bd + "--" + m.NL)
	m.Fields = keep
	if !m.Has("MIME-Version") {
		m.Add("MIME-Version", "1.0")
	}
	m.Add("Content-Type", mime.FormatMediaType("multipart/mixed", map[string]string{"boundary": bd}))
	m.Body = b.Bytes()
}

// fieldBytes returns one header field as written (raw, or folded if new).
func fieldBytes(f *mailmsg.Field, nl string) []byte {
	if f.Raw != nil {
		if bytes.HasSuffix(f.Raw, []byte("\n")) {
			return f.Raw
		}
		return append(append([]byte(nil), f.Raw...), nl...)
	}
	tmp := &mailmsg.Message{Fields: []*mailmsg.Field{f}, NL: nl}
	h := tmp.HeaderBytes()
	return h[:len(h)-len(nl)]
}

// newField returns a new header field (folded when serialised).
func newField(name, value string) *mailmsg.Field {
	tmp := &mailmsg.Message{}
	tmp.Add(name, value)
	return tmp.Fields[0]
}

// hasBroken reports whether a multipart anywhere in the tree could not be split.
func (p *part) hasBroken() bool {
	if p.broken {
		return true
	}
	for _, c := range p.children {
		if c.hasBroken() {
			return true
		}
	}
	return false
}

// hasLineStarting reports whether a line of d starts with marker, after
// optional blanks (some clients indent armor). A quoted "> -----BEGIN"
// does not count.
func hasLineStarting(d, marker []byte) bool {
	for from := 0; from < len(d); {
		i := bytes.Index(d[from:], marker)
		if i < 0 {
			return false
		}
		i += from
		j := i
		for j > 0 && (d[j-1] == ' ' || d[j-1] == '\t') {
			j--
		}
		if j == 0 || d[j-1] == '\n' {
			return true
		}
		from = i + 1
	}
	return false
}
