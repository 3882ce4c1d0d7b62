package handlers

import (
	"fmt"
	"mime"
	"strings"
	"unicode/utf8"

	"cloister/internal/listaddr"
	"cloister/internal/refusal"
)

// RFC2369 adds the list header fields of RFC 2369 and RFC 2919 (List-Id,
// List-Post, List-Help, List-Subscribe, List-Unsubscribe, List-Owner and,
// when the list keeps an archive, List-Archive), Precedence: list, and the
// loop header X-Loop naming the list. List-* fields the post already carries
// (from another list, or forged) are replaced. A post whose X-Loop already
// names this list has been here before and is discarded.
type RFC2369 struct{}

// Name implements Handler.
func (RFC2369) Name() string { return "rfc2369" }

// Description implements Handler.
func (RFC2369) Description() string {
	return "add List-Id, List-Post, List-Help, List-(Un)Subscribe, List-Archive, Precedence and X-Loop"
}

// Process implements Handler.
func (h RFC2369) Process(ctx *Context) error {
	addr := ctx.listAddress()
	if addr == "" {
		return fmt.Errorf("rfc2369: the list has no address")
	}
	m := ctx.Msg
	for _, v := range m.Values("X-Loop") {
		if strings.EqualFold(strings.Trim(strings.TrimSpace(v), "<>"), addr) {
			return fmt.Errorf("%w: X-Loop names %s (mail loop)", refusal.ErrDiscard, addr)
		}
	}
	out := m.Fields[:0]
	for _, f := range m.Fields {
		if !strings.HasPrefix(strings.ToLower(f.Name), "list-") {
			out = append(out, f)
		}
	}
	m.Fields = out
	local, domain := ctx.listParts()
	at := func(sub, query string) string {
		s := "<mailto:" + listaddr.Address(local+"@"+domain, sub)
		if query != "" {
			s += "?" + query
		}
		return s + ">"
	}
	m.Add("List-Id", ListID(ctx.List.Description, local, domain))
	m.Add("List-Post", at(listaddr.SubPost, ""))
	m.Add("List-Help", at(listaddr.SubRequest, "subject=help"))
	m.Add("List-Subscribe", at(listaddr.SubJoin, ""))
	m.Add("List-Unsubscribe", at(listaddr.SubLeave, ""))
	m.Add("List-Owner", at(listaddr.SubOwner, ""))
	if a := ctx.settings().Archive; a != "" && a != "none" {
		m.Add("List-Archive", at(listaddr.SubRequest, "subject=index"))
	}
	m.Del("Precedence")
	m.Add("Precedence", "list")
	m.Add("X-Loop", addr)
	return nil
}

// maxListIDPhrase bounds the description shown in List-Id.
const maxListIDPhrase = 120

// ListID returns the List-Id field value of RFC 2919: the description as a
// quoted phrase (RFC 2047 encoded when it is not ASCII) and the list
// identifier local.domain in angle brackets.
func ListID(description, local, domain string) string {
	id := "<" + strings.ReplaceAll(local, "@", ".") + "." + domain + ">"
	d := strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, description))
	if d == "" {
		return id
	}
	if len(d) > maxListIDPhrase {
		// Keep the header line short: cut at a rune boundary.
		cut := maxListIDPhrase
		for cut > 0 && !utf8.RuneStart(d[cut]) {
			cut--
		}
		d = strings.TrimSpace(d[:cut])
	}
	if isASCII(d) {
		d = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(d) + `"`
	} else {
		d = mime.QEncoding.Encode("utf-8", d)
	}
	return d + " " + id
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
