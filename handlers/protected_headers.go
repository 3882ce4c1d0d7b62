package handlers

import (
	"bytes"
	"fmt"
	"mime"
	"slices"
	"strings"

	"cloister/mailmsg"
)

// ObscuredSubject is the outer Subject of an encrypted post whose real
// Subject travels inside the encryption.
const ObscuredSubject = "..."

// placeholderSubjects are outer Subjects that clients put on encrypted mail.
var placeholderSubjects = map[string]bool{
	"...": true, "[...]": true, "encrypted message": true, "subject unavailable": true, "": true,
}

// protectedFields are the header fields ProtectHeaders copies inside the
// encrypted part.
var protectedFields = []string{"Subject", "From", "To", "Cc", "Reply-To", "Date", "Message-ID", "In-Reply-To", "References"}

// ProtectedHeaders prepares a post that arrived encrypted for header
// protection (RFC 9788, after the protected-headers draft): it removes what
// the sender's own protection left in the decrypted post (the
// protected-headers and hp parameters of the Content-Type, HP-Outer fields,
// the legacy display (the draft's text/rfc822-headers part, or RFC 9788's
// Legacy Display Element at the start of a part marked hp-legacy-display,
// // whose text would be stale once the Subject is prefixed); the outgoing runner
// calls ProtectHeadersAs when it encrypts the post, so that the real Subject
// travels only inside the encryption and the outer one reads "...". The
// incoming side has already put an encrypted post's inner Subject in place
// of a placeholder outer Subject (ReadProtected does the same for an entity).
type ProtectedHeaders struct{}

// Name implements Handler.
func (ProtectedHeaders) Name() string { return "protected-headers" }

// Description implements Handler.
func (ProtectedHeaders) Description() string {
	return "for a post that arrived encrypted: keep the real Subject inside the encryption, outer Subject \"...\""
}

// Process implements Handler.
func (h ProtectedHeaders) Process(ctx *Context) error {
	if !ctx.arrivedEncrypted() {
		return nil
	}
	m := ctx.Msg
	m.Del("HP-Outer")
	if ct := m.Get("Content-Type"); ct != "" {
		if mt, params, err := mime.ParseMediaType(ct); err == nil {
			if _, ok := params["protected-headers"]; ok || params["hp"] != "" {
				delete(params, "protected-headers")
				delete(params, "hp")
				m.Set("Content-Type", mime.FormatMediaType(mt, params))
			}
		}
	}
	if tree, err := parseTree(m); err == nil {
		if tree.mt == "multipart/mixed" && len(tree.children) > 1 {
			first := tree.children[0]
			if _, v1 := first.params["protected-headers"]; first.mt == "text/rfc822-headers" && v1 {
				tree.children = tree.children[1:]
				tree.changed = true
				m.Body = tree.bodyBytes(m.NL)
				tree, err = parseTree(m)
			}
		}
		if err == nil && dropLegacyDisplay(m, tree, true) {
			if tree.changed {
				m.Body = tree.bodyBytes(m.NL)
			}
		}
	}
	return nil
}

// ProtectHeaders implements header protection for the outgoing runner.
// inner is the MIME entity about to be encrypted (its Content-* fields and
// body) and outer the message that will carry it. The returned entity
// carries copies of the outer Subject, From, To, Cc, Reply-To, Date,
// Message-ID, In-Reply-To and References, a Content-Type marked
// protected-headers="v1" and hp="cipher", and one HP-Outer field per copied
// field saying what the outer header shows; the outer Subject becomes
// ObscuredSubject. The body of inner is kept byte for byte.
func ProtectHeaders(inner []byte, outer *mailmsg.Message) ([]byte, error) {
	return ProtectHeadersAs(inner, outer, nil)
}

// ProtectHeadersAs is ProtectHeaders for a message whose outer header is to
// be replaced by shown (for cover traffic, a header that is the same for
// every post of the list): the protected copies come from outer, every other
// field of outer whose name shown lacks is copied inside too (so that the
// encryption keeps what the outer header drops), the HP-Outer fields say
// what shown shows, and outer's fields become shown's. With shown nil it is
// ProtectHeaders.
func ProtectHeadersAs(inner []byte, outer, shown *mailmsg.Message) ([]byte, error) {
	in, err := mailmsg.Parse(inner)
	if err != nil {
		return nil, fmt.Errorf("protect headers: inner entity: %w", err)
	}
	if outer == nil {
		return nil, fmt.Errorf("protect headers: no outer message")
	}
	for _, n := range protectedFields {
		in.Del(n)
	}
	in.Del("HP-Outer")
	mt, params := "text/plain", map[string]string{"charset": "us-ascii"}
	if ct := in.Get("Content-Type"); ct != "" {
		mt, params, err = mime.ParseMediaType(ct)
		if err != nil {
			return nil, fmt.Errorf("protect headers: inner content-type: %w", err)
		}
	}
	delete(params, "protected-headers")
	delete(params, "hp")
	// Written quoted, as the examples of RFC 9788 and the clients that
	// match the parameter as a string expect.
	in.Set("Content-Type", mime.FormatMediaType(mt, params)+`; protected-headers="v1"; hp="cipher"`)
	if !in.Has("MIME-Version") {
		in.Prepend("MIME-Version", "1.0")
	}
	if !outer.Has("Subject") {
		outer.Add("Subject", ObscuredSubject)
	}
	var copies, hpOuter []*mailmsg.Field
	for _, n := range protectedFields {
		for _, v := range outer.Values(n) {
			copies = append(copies, newField(n, v))
			if n == "Subject" {
				v = ObscuredSubject
			}
			if shown == nil {
				hpOuter = append(hpOuter, newField("HP-Outer", n+": "+v))
			}
		}
	}
	if shown != nil {
		for _, f := range outer.Fields {
			if !slices.ContainsFunc(protectedFields, func(n string) bool { return strings.EqualFold(n, f.Name) }) && !shown.Has(f.Name) {
				copies = append(copies, newField(f.Name, f.Value()))
			}
		}
		for _, n := range protectedFields {
			for _, v := range shown.Values(n) {
				if n == "Subject" {
					v = ObscuredSubject
				}
				hpOuter = append(hpOuter, newField("HP-Outer", n+": "+v))
			}
		}
		outer.Fields = append([]*mailmsg.Field(nil), shown.Fields...)
	}
	in.Fields = append(append(copies, hpOuter...), in.Fields...)
	outer.Set("Subject", ObscuredSubject)
	return in.Bytes(), nil
}

// Protected is what ReadProtected finds in a decrypted entity.
type Protected struct {
	Subject string // the protected Subject, as written (RFC 2047 encoded words kept)
	From    string // the protected From, if present
}

// ReadProtected reads the protected header fields of a decrypted MIME
// entity (its full header and body): an entity whose Content-Type carries
// protected-headers or hp holds them in its own header. ok is false when
// the entity declares no header protection or carries no Subject.
func ReadProtected(entity []byte) (p Protected, ok bool, err error) {
	in, err := mailmsg.Parse(entity)
	if err != nil {
		return Protected{}, false, fmt.Errorf("read protected headers: %w", err)
	}
	_, params, err := mime.ParseMediaType(in.Get("Content-Type"))
	if err != nil {
		return Protected{}, false, nil
	}
	if _, v1 := params["protected-headers"]; !v1 && params["hp"] == "" {
		return Protected{}, false, nil
	}
	if !in.Has("Subject") {
		return Protected{}, false, nil
	}
	return Protected{Subject: in.Get("Subject"), From: in.Get("From")}, true, nil
}

// IsPlaceholderSubject reports whether an outer Subject is one that clients
// put on encrypted mail in place of the real one.
func IsPlaceholderSubject(s string) bool {
	return placeholderSubjects[strings.ToLower(strings.TrimSpace(s))]
}

// legacyDisplayClass marks the Legacy Display Element of an HTML part.
const legacyDisplayClass = "header-protection-legacy-display"

// dropLegacyDisplay removes the Legacy Display Element (RFC 9788 4.5.3) from
// every text part marked hp-legacy-display="1", and the mark itself. It
// reports whether anything changed; changed multiparts are marked so that
// the caller rebuilds the body.
func dropLegacyDisplay(m *mailmsg.Message, p *part, top bool) bool {
	if p.children != nil {
		done := false
		for _, c := range p.children {
			if dropLegacyDisplay(m, c, false) {
				done = true
			}
		}
		if done {
			p.changed = true
		}
		return done
	}
	if p.params["hp-legacy-display"] != "1" || !strings.HasPrefix(p.mt, "text/") {
		return false
	}
	d, err := p.decoded()
	if err != nil {
		return false
	}
	switch p.mt {
	case "text/plain":
		d = cutLegacyText(d)
	case "text/html":
		d = cutLegacyHTML(d)
	}
	params := map[string]string{}
	for k, v := range p.params {
		if k != "hp-legacy-display" {
			params[k] = v
		}
	}
	ct := mime.FormatMediaType(p.mt, params)
	body := d
	if cte := p.cte(); cte == "quoted-printable" || cte == "base64" {
		body = encodeCTE(cte, d, m.NL)
	}
	if top {
		m.Set("Content-Type", ct)
		m.Body = body
		return true
	}
	h, err := mailmsg.Parse(append(append([]byte(nil), p.header...), m.NL...))
	if err != nil {
		return false
	}
	h.NL = m.NL
	h.Set("Content-Type", ct)
	p.raw = append(h.HeaderBytes(), body...)
	return true
}

// cutLegacyText removes the header-like lines at the start of a text, up to
// and including the first empty line.
func cutLegacyText(d []byte) []byte {
	rest := d
	for len(rest) > 0 {
		line := rest
		next := []byte(nil)
		if i := bytes.IndexByte(rest, '\n'); i >= 0 {
			line, next = rest[:i], rest[i+1:]
		}
		if len(bytes.TrimRight(line, "\r")) == 0 {
			return next
		}
		if !bytes.Contains(line, []byte(": ")) {
			return d // not a legacy display element
		}
		rest = next
	}
	return d
}

// cutLegacyHTML removes the element of class header-protection-legacy-display.
func cutLegacyHTML(d []byte) []byte {
	i := bytes.Index(d, []byte(legacyDisplayClass))
	if i < 0 {
		return d
	}
	start := bytes.LastIndex(d[:i], []byte("<div"))
	end := bytes.Index(d[i:], []byte("</div>"))
	if start < 0 || end < 0 {
		return d
	}
	end += i + len("</div>")
	return append(append([]byte(nil), d[:start]...), d[end:]...)
}
