package handlers

import (
	"fmt"
	"mime"
	"path"
	"slices"
	"strings"
	"unicode"

	"cloister/mailmsg/rawmime"
)

// ContentFilter keeps only the content types a list accepts (setting
// content_filter: media types such as text/plain or image/*, and
// html-to-text). Parts of other types are removed and listed in a short
// note added as a last text part; text/plain is always accepted. Deny
// entries (!type/subtype, !type/*, !.ext) remove the parts of that type or
// whose file name ends in that extension, whatever else the list accepts;
// extension entries (.ext) remove the parts with a file name whose extension
// is not listed. A
// multipart/alternative keeps its text part when its HTML is not accepted;
// with html-to-text an HTML part that has no text alternative is converted
// to plain text. Multipart containers are kept (emptied ones removed) and a
// multipart/alternative left with one part becomes that part. Signed or
// encrypted content is never edited (that would break it): it passes when
// nothing in it would be removed, and is rejected otherwise, so that signing
// a post is no way around the filter. A post with nothing acceptable left,
// or whose MIME structure cannot be read, is rejected.
type ContentFilter struct{}

// Name implements Handler.
func (ContentFilter) Name() string { return "content-filter" }

// Description implements Handler.
func (ContentFilter) Description() string {
	return "keep only accepted content types, HTML to text, list removed parts in a note (setting content_filter)"
}

// contentRules is a parsed content_filter setting.
type contentRules struct {
	types      []string // accepted media types; none (and no html-to-text): every type
	htmlToText bool
	denyTypes  []string // !type/subtype
	exts       []string // .ext: accepted file name extensions; none: every one
	denyExts   []string // !.ext
}

func parseContentRules(v string) *contentRules {
	toks := strings.FieldsFunc(strings.ToLower(v), func(r rune) bool { return r == ',' || unicode.IsSpace(r) })
	if len(toks) == 0 {
		return nil
	}
	r := &contentRules{}
	for _, t := range toks {
		switch {
		case t == "html-to-text":
			r.htmlToText = true
		case strings.HasPrefix(t, "!."):
			r.denyExts = append(r.denyExts, t[2:])
		case strings.HasPrefix(t, "!"):
			r.denyTypes = append(r.denyTypes, t[1:])
		case strings.HasPrefix(t, "."):
			r.exts = append(r.exts, t[1:])
		default:
			r.types = append(r.types, t)
		}
	}
	return r
}

// anyType reports that the setting names no accepted type (only deny or
// extension entries): every type not denied is accepted.
func (r *contentRules) anyType() bool { return len(r.types) == 0 && !r.htmlToText }

func matchType(pats []string, mt string) bool {
	for _, t := range pats {
		if ok, _ := path.Match(t, mt); ok || t == mt {
			return true
		}
	}
	return false
}

// extension returns the lower-cased extension of a part's file name (its
// encoded words decoded, trailing dots and spaces dropped as Windows does),
// or "" when it has none.
func extension(p *part) string {
	name := p.filename()
	if name == "" {
		return ""
	}
	if d, err := new(mime.WordDecoder).DecodeHeader(name); err == nil {
		name = d
	}
	name = strings.TrimRight(strings.ToLower(name), ". \t")
	if i := strings.LastIndexAny(name, "/\\"); i >= 0 {
		name = name[i+1:]
	}
	ext := path.Ext(name)
	if ext == "" || ext == name {
		return ""
	}
	return ext[1:]
}

// partAllowed applies the type and the extension entries to a leaf part.
func (r *contentRules) partAllowed(p *part) bool {
	if cryptoTypes[p.mt] {
		return true
	}
	if matchType(r.denyTypes, p.mt) {
		return false
	}
	if ext := extension(p); ext != "" {
		if slices.Contains(r.denyExts, ext) || (len(r.exts) > 0 && !slices.Contains(r.exts, ext)) {
			return false
		}
	}
	return r.allowed(p.mt)
}

// cryptoTypes are the parts of signed and encrypted content (signatures,
// encrypted data): always accepted, as the content they protect is checked.
var cryptoTypes = map[string]bool{
	"application/pgp-signature": true, "application/pkcs7-signature": true, "application/x-pkcs7-signature": true,
	"application/pgp-encrypted": true, "application/pkcs7-mime": true, "application/x-pkcs7-mime": true,
}

// allowed applies the accepted types (not the deny or extension entries)
// to a media type.
func (r *contentRules) allowed(mt string) bool {
	if mt == "text/plain" || cryptoTypes[mt] || r.anyType() {
		return true
	}
	return matchType(r.types, mt)
}

// Process implements Handler.
func (h ContentFilter) Process(ctx *Context) error {
	rules := parseContentRules(ctx.settings().ContentFilter)
	if rules == nil {
		return nil
	}
	m := ctx.Msg
	tree, err := parseTree(m)
	if err != nil {
		return reject(h, "the post's MIME structure cannot be read")
	}
	if tree.hasBroken() {
		return reject(h, "the post's MIME structure cannot be read")
	}
	var removed []string
	out := filterPart(tree, rules, m.NL, &removed)
	if tree.sealed() {
		// Signed or encrypted content cannot be edited without breaking it:
		// it passes as it is when nothing in it would have been removed.
		if len(removed) > 0 {
			return reject(h, "the post is signed or encrypted and holds parts this list does not accept (%s), which cannot be removed without breaking it", strings.Join(removed, "; "))
		}
		return nil
	}
	if out == nil {
		return reject(h, "the post holds no content of a type this list accepts (%s)", strings.Join(removed, "; "))
	}
	if out != tree {
		replaceContent(m, out)
	} else if tree.changed {
		m.Body = tree.bodyBytes(m.NL)
	}
	if len(removed) == 0 {
		return nil
	}
	var b strings.Builder
	b.WriteString("This list removed parts of this message that it does not accept:\n")
	for _, r := range removed {
		b.WriteString("  - " + r + "\n")
	}
	note := textPart(b.String(), m.NL, map[string]string{"Content-Description": "removed content"})
	if top, err := parseTree(m); err == nil && top.mt == "multipart/mixed" && insertPart(ctx, top, note) {
		return nil
	}
	wrapMixed(m, note)
	return nil
}

// filterPart returns p filtered (p itself, possibly with changed children),
// a replacement part, or nil when nothing of p is kept.
func filterPart(p *part, r *contentRules, nl string, removed *[]string) *part {
	if p.mt == "multipart/encrypted" {
		return p // opaque: what it holds cannot be seen
	}
	if p.children != nil {
		alt := p.mt == "multipart/alternative"
		hasText := false
		if alt {
			for _, c := range p.children {
				if c.mt == "text/plain" {
					hasText = true
				}
			}
		}
		var kept []*part
		changed := false
		for _, c := range p.children {
			var nc *part
			if alt && hasText && c.children == nil && !r.partAllowed(c) {
				nc = nil // the text alternative says the same
			} else {
				nc = filterPart(c, r, nl, removed)
			}
			if nc != c {
				changed = true
			}
			if nc != nil {
				kept = append(kept, nc)
			}
		}
		switch {
		case len(kept) == 0:
			return nil
		case alt && len(kept) == 1:
			return kept[0]
		case changed:
			p.children = kept
			p.changed = true
		}
		return p
	}
	if strings.HasPrefix(p.mt, "multipart/") && !p.broken {
		// An empty multipart: nothing to keep.
		return nil
	}
	if r.partAllowed(p) {
		return p
	}
	if p.mt == "text/html" && r.htmlToText && r.allowedButType(p) {
		if text, err := p.text(); err == nil {
			if np, err := partFromRaw(textPart(HTMLToText(text), nl, nil)); err == nil {
				return np
			}
		}
	}
	*removed = append(*removed, describePart(p))
	return nil
}

// allowedButType reports that only the accepted types refuse p (no deny or
// extension entry does), so converting it is allowed.
func (r *contentRules) allowedButType(p *part) bool {
	if matchType(r.denyTypes, p.mt) {
		return false
	}
	if ext := extension(p); ext != "" && (slices.Contains(r.denyExts, ext) || (len(r.exts) > 0 && !slices.Contains(r.exts, ext))) {
		return false
	}
	return true
}

// describePart names a removed part for the note: type, file name, size.
func describePart(p *part) string {
	s := p.mt
	if fn := p.filename(); fn != "" {
		s += ", " + strings.Map(func(r rune) rune {
			if unicode.IsControl(r) {
				return -1
			}
			return r
		}, fn)
	}
	n := len(p.body)
	if d, err := p.decoded(); err == nil {
		n = len(d)
	}
	if n >= 1024 {
		return fmt.Sprintf("%s (%d KB)", s, (n+1023)/1024)
	}
	return fmt.Sprintf("%s (%d bytes)", s, n)
}

// partFromRaw parses a complete entity into a part.
func partFromRaw(raw []byte) (*part, error) {
	e, err := rawmime.Parse(raw)
	if err != nil {
		return nil, err
	}
	p := fromEntity(e, false)
	count := 0
	if err := p.split(0, &count); err != nil {
		return nil, err
	}
	return p, nil
}
