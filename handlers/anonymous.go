package handlers

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"io"
	"net/mail"
	"regexp"
	"strings"

	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/smime"
)

// Anonymous hides the author of a post on a list whose anonymous setting is
// on. From and Reply-To become the list's, Message-ID is replaced by a new
// one in the list's domain, Date is kept in UTC (the time zone is dropped),
// and every other header field is removed unless it is on a short list of
// fields that carry no identity: Subject, To, Cc (with the author's own
// addresses taken out), MIME-Version, Content-*, In-Reply-To and References
// (threading is kept, without message IDs from the author's domain), X-Loop
// and Precedence. So Received, X-Originating-IP, User-Agent, X-Mailer,
// Sender, Return-Path, DKIM-Signature, Authentication-Results, Autocrypt and
// any field naming the author are gone. A kept field that still names one of
// the author's addresses or IP addresses is removed too.
//
// The author's cryptographic signature would name them as well: a
// multipart/signed is unwrapped to its signed content and an inline OpenPGP
// cleartext signature to its text; an S/MIME opaque-signed post cannot be
// unwrapped without breaking it and is rejected. The author's "-- "
// signature block in the text is removed by strip-signature when
// strip_original_signature is on, and kept when it is off.
type Anonymous struct{}

// Name implements Handler.
func (Anonymous) Name() string { return "anonymous" }

// Description implements Handler.
func (Anonymous) Description() string {
	return "hide the author: From and Reply-To become the list's, identifying fields and signatures are removed (setting anonymous)"
}

// anonymousKeep are the header fields an anonymous post keeps.
var anonymousKeep = map[string]bool{
	"subject": true, "to": true, "cc": true, "date": true, "mime-version": true,
	"in-reply-to": true, "references": true, "x-loop": true, "precedence": true,
}

var ipPattern = regexp.MustCompile(`\b(?:\d{1,3}\.){3}\d{1,3}\b|\b[0-9a-fA-F]{0,4}(?::[0-9a-fA-F]{0,4}){2,7}\b`)

// Process implements Handler.
func (h Anonymous) Process(ctx *Context) error {
	if !ctx.settings().Anonymous {
		return nil
	}
	list := ctx.listAddress()
	if list == "" {
		return fmt.Errorf("anonymous: the list has no address")
	}
	m := ctx.Msg
	ids := senderIdentity(ctx)
	if err := unwrapSignatures(ctx); err != nil {
		return err
	}
	_, listDomain := ctx.listParts()
	kept := m.Fields[:0:0]
	for _, f := range m.Fields {
		n := strings.ToLower(f.Name)
		if !anonymousKeep[n] && !isContentField(n) {
			continue
		}
		v := f.Value()
		switch n {
		case "to", "cc":
			nv, ok := withoutAddresses(v, ids.addrs)
			if !ok {
				continue
			}
			if nv != v {
				f = newField(f.Name, nv)
			}
		case "in-reply-to", "references":
			nv := filterMsgIDs(v, ids, listDomain)
			if nv == "" {
				continue
			}
			if nv != v {
				f = newField(f.Name, nv)
			}
		case "date":
			t, err := mail.ParseDate(v)
			if err != nil {
				continue
			}
			f = newField(f.Name, t.UTC().Format("Mon, 02 Jan 2006 15:04:05 +0000"))
		}
		if !isContentField(n) && ids.named(f.Value(), n != "subject") {
			continue
		}
		kept = append(kept, f)
	}
	m.Fields = kept
	from := mailmsg.FormatAddress(&mail.Address{Name: listDisplayName(ctx), Address: list})
	m.Prepend("From", from)
	m.Set("Reply-To", "<"+list+">")
	id := make([]byte, 16)
	if _, err := io.ReadFull(ctx.rand(), id); err != nil {
		return fmt.Errorf("anonymous: new message id: %w", err)
	}
	m.Set("Message-ID", "<"+hex.EncodeToString(id)+"@"+listDomain+">")
	return nil
}

// listDisplayName is the name shown in an anonymous or munged From.
func listDisplayName(ctx *Context) string {
	if ctx.List != nil && strings.TrimSpace(ctx.List.Description) != "" && len(ctx.List.Description) <= 64 {
		return strings.TrimSpace(ctx.List.Description)
	}
	local, _ := ctx.listParts()
	return local
}

// identity is what names the author of a post.
type identity struct {
	addrs   []string // lower-cased addresses
	domains []string // their domains
	ips     []string // IP addresses from trace fields
	names   []string // display names, lower-cased
}

// named reports whether v mentions any of the identity's addresses or IP
// addresses, or, with names set, display names.
func (id *identity) named(v string, names bool) bool {
	l := strings.ToLower(mailmsg.DecodeHeader(v)) + " " + strings.ToLower(v)
	for _, a := range id.addrs {
		if strings.Contains(l, a) {
			return true
		}
	}
	for _, w := range id.ips {
		if strings.Contains(l, w) {
			return true
		}
	}
	if names {
		for _, w := range id.names {
			if strings.Contains(l, w) {
				return true
			}
		}
	}
	return false
}

// senderIdentity collects the author's addresses, display names and the IP
// addresses that trace fields recorded.
func senderIdentity(ctx *Context) *identity {
	id := &identity{}
	addAddr := func(a string) {
		a = strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>"))
		if a == "" || !strings.Contains(a, "@") || a == ctx.listAddress() {
			return
		}
		for _, x := range id.addrs {
			if x == a {
				return
			}
		}
		id.addrs = append(id.addrs, a)
		d := a[strings.LastIndexByte(a, '@')+1:]
		id.domains = append(id.domains, d)
	}
	m := ctx.Msg
	for _, n := range []string{"From", "Sender", "Reply-To", "Return-Path", "Resent-From", "Resent-Sender"} {
		for _, v := range m.Values(n) {
			list, err := mailmsg.ParseAddressList(v)
			if err != nil {
				addAddr(v)
				continue
			}
			for _, a := range list {
				addAddr(a.Address)
				if name := strings.ToLower(strings.TrimSpace(a.Name)); len(name) >= 3 {
					id.names = append(id.names, name)
				}
			}
		}
	}
	if ctx.Meta != nil {
		addAddr(ctx.Meta.Sender)
		addAddr(ctx.Meta.From)
		for _, a := range ctx.Meta.SignerAddresses {
			addAddr(a)
		}
	}
	for _, n := range []string{"Received", "X-Originating-IP", "X-Sender-IP", "X-Remote-Addr"} {
		for _, v := range m.Values(n) {
			for _, ip := range ipPattern.FindAllString(v, -1) {
				if strings.Count(ip, ":") >= 2 && len(ip) < 6 {
					continue
				}
				id.ips = append(id.ips, strings.ToLower(ip))
			}
		}
	}
	return id
}

// withoutAddresses returns an address-list value without the given
// addresses, and false when nothing is left.
func withoutAddresses(v string, drop []string) (string, bool) {
	list, err := mailmsg.ParseAddressList(v)
	if err != nil {
		return "", false
	}
	var out []string
	for _, a := range list {
		skip := false
		for _, d := range drop {
			if strings.EqualFold(a.Address, d) {
				skip = true
			}
		}
		if !skip {
			out = append(out, a.String())
		}
	}
	if len(out) == 0 {
		return "", false
	}
	if len(out) == len(list) {
		return v, true
	}
	return strings.Join(out, ", "), true
}

var msgIDPattern = regexp.MustCompile(`<[^<>\s]+>`)

// filterMsgIDs keeps the message IDs of v that are not in one of the
// author's domains (the list's own domain is always kept).
func filterMsgIDs(v string, id *identity, listDomain string) string {
	var out []string
	for _, mid := range msgIDPattern.FindAllString(v, 100) {
		right := strings.ToLower(mid[strings.LastIndexByte(mid, '@')+1 : len(mid)-1])
		bad := id.named(mid, false)
		for _, d := range id.domains {
			if right == d && d != strings.ToLower(listDomain) {
				bad = true
			}
		}
		if !bad {
			out = append(out, mid)
		}
	}
	return strings.Join(out, " ")
}

// unwrapSignatures removes the author's cryptographic signatures from the
// post: every multipart/signed becomes its signed content, an inline OpenPGP
// cleartext signature its text, an S/MIME opaque signature of the whole
// post its content. An opaque signature of a part is refused.
func unwrapSignatures(ctx *Context) error {
	h := Anonymous{}
	for round := 0; round < maxDepth; round++ {
		tree, err := parseTree(ctx.Msg)
		if err != nil {
			return reject(h, "the post's MIME structure cannot be read")
		}
		if unwrapOpaque(ctx.Msg, tree) {
			continue
		}
		if hasOpaqueSigned(tree) {
			return reject(h, "this list is anonymous and an S/MIME opaque-signed post cannot be stripped of its signature; send it unsigned or with a detached signature")
		}
		switch {
		case tree.mt == "multipart/signed" && len(tree.children) >= 1:
			replaceContent(ctx.Msg, tree.children[0])
			continue
		case unwrapSignedChildren(tree):
			ctx.Msg.Body = tree.bodyBytes(ctx.Msg.NL)
			continue
		case tree.children == nil && strings.HasPrefix(tree.mt, "text/"):
			if unwrapClearsigned(ctx, tree) {
				continue
			}
		}
		return nil
	}
	return reject(h, "signatures nested too deeply")
}

// unwrapOpaque replaces a post that is an opaque S/MIME signature by the
// content it signs, and reports whether it did.
func unwrapOpaque(m *mailmsg.Message, top *part) bool {
	if top.mt != "application/pkcs7-mime" && top.mt != "application/x-pkcs7-mime" {
		return false
	}
	content, ok := smime.OpaqueContent(append(append(append([]byte(nil), top.header...), m.NL...), top.body...))
	if !ok {
		return false
	}
	e, err := rawmime.Parse(content)
	if err != nil {
		return false
	}
	replaceContent(m, fromEntity(e, false))
	return true
}

func hasOpaqueSigned(p *part) bool {
	if (p.mt == "application/pkcs7-mime" || p.mt == "application/x-pkcs7-mime") &&
		!strings.EqualFold(p.params["smime-type"], "enveloped-data") && !strings.EqualFold(p.params["smime-type"], "authenveloped-data") {
		return true
	}
	for _, c := range p.children {
		if hasOpaqueSigned(c) {
			return true
		}
	}
	return false
}

// unwrapSignedChildren replaces every nested multipart/signed by its first part.
func unwrapSignedChildren(p *part) bool {
	done := false
	for i, c := range p.children {
		if c.mt == "multipart/signed" && len(c.children) >= 1 {
			p.children[i] = c.children[0]
			done = true
		} else if unwrapSignedChildren(c) {
			done = true
		}
	}
	if done {
		p.changed = true
	}
	return done
}

// replaceContent puts the entity c in place of the message's content: its
// Content-* fields replace the message's, its body the message body.
func replaceContent(m *mailmsg.Message, c *part) {
	keep := m.Fields[:0:0]
	for _, f := range m.Fields {
		if !isContentField(f.Name) {
			keep = append(keep, f)
		}
	}
	if len(c.header) > 0 {
		if hm, err := mailmsg.Parse(append(append([]byte(nil), c.header...), m.NL...)); err == nil {
			for _, f := range hm.Fields {
				if isContentField(f.Name) {
					keep = append(keep, f)
				}
			}
		}
	}
	m.Fields = keep
	m.Body = c.bodyBytes(m.NL)
}

var (
	clearBegin = []byte("-----BEGIN PGP SIGNED MESSAGE-----")
	sigBegin   = []byte("-----BEGIN PGP SIGNATURE-----")
	sigEnd     = []byte("-----END PGP SIGNATURE-----")
)

// unwrapClearsigned turns an inline OpenPGP cleartext-signed text into its
// text (dash-escaping undone, armor headers and signature removed).
func unwrapClearsigned(ctx *Context, top *part) bool {
	d, err := top.decoded()
	if err != nil {
		return false
	}
	b := bytes.Index(d, clearBegin)
	if b < 0 || (b > 0 && d[b-1] != '\n') {
		return false
	}
	start := b + len(clearBegin)
	s := bytes.Index(d[start:], sigBegin)
	if s < 0 {
		return false
	}
	s += start
	e := bytes.Index(d[s:], sigEnd)
	if e < 0 {
		return false
	}
	e += s + len(sigEnd)
	// Skip the armor header lines (Hash: ...) up to the first empty line.
	body := d[b+len(clearBegin) : s]
	if i := bytes.Index(body, []byte("\n\n")); i >= 0 {
		body = body[i+2:]
	} else if i := bytes.Index(body, []byte("\n\r\n")); i >= 0 {
		body = body[i+3:]
	} else {
		return false
	}
	var out []byte
	out = append(out, d[:b]...)
	for _, line := range bytes.SplitAfter(body, []byte("\n")) {
		out = append(out, bytes.TrimPrefix(line, []byte("- "))...)
	}
	rest := d[e:]
	rest = bytes.TrimLeft(rest, "\r\n")
	out = append(out, rest...)
	cte := top.cte()
	switch cte {
	case "quoted-printable", "base64":
		ctx.Msg.Body = encodeCTE(cte, out, ctx.Msg.NL)
	default:
		ctx.Msg.Body = out
	}
	return true
}
