package handlers

import (
	"bytes"
	"mime"
	"strings"
)

// Footer appends the list's footer text to a post: at the end of a
// text/plain body (in the body's own transfer encoding), as a new text/plain
// part at the end of a multipart/mixed, or, for anything else, by wrapping
// the post into a multipart/mixed whose first part holds the original
// content unchanged. A post that is signed or encrypted anywhere
// (multipart/signed, multipart/encrypted, S/MIME application/pkcs7-mime,
// inline OpenPGP armor) or that arrived encrypted is left exactly as it is:
// a footer would break the signature or leak beside encrypted content.
type Footer struct{}

// Name implements Handler.
func (Footer) Name() string { return "footer" }

// Description implements Handler.
func (Footer) Description() string {
	return "append the footer text to posts that are neither signed nor encrypted (setting footer)"
}

// Process implements Handler.
func (h Footer) Process(ctx *Context) error {
	text := strings.ReplaceAll(ctx.settings().Footer, "\r\n", "\n")
	if strings.TrimSpace(text) == "" {
		return nil
	}
	if !strings.HasSuffix(text, "\n") {
		text += "\n"
	}
	if ctx.arrivedEncrypted() {
		return nil
	}
	tree, err := parseTree(ctx.Msg)
	if err != nil {
		return nil
	}
	if tree.sealed() {
		return nil
	}
	m := ctx.Msg
	switch {
	case tree.mt == "text/plain" && appendText(ctx, tree, text):
		// appended to the text
	case tree.mt == "multipart/mixed" && insertPart(ctx, tree, textPart(text, m.NL, nil)):
		// added as a part
	default:
		wrapMixed(m, textPart(text, m.NL, nil))
	}
	return nil
}

// asciiCharset reports whether a charset encodes ASCII as ASCII.
func asciiCharset(cs string) bool {
	cs = strings.ToLower(cs)
	for _, bad := range []string{"utf-16", "utf-32", "utf-7", "ucs", "iso-2022", "hz-gb", "ebcdic", "ibm0", "cp037"} {
		if strings.HasPrefix(cs, bad) {
			return false
		}
	}
	return true
}

// appendText appends text to a single text/plain body, keeping its charset
// and transfer encoding. It returns false (nothing done) when it cannot
// append safely: the caller then adds the footer as a part.
func appendText(ctx *Context, top *part, text string) bool {
	m := ctx.Msg
	cs := strings.ToLower(top.params["charset"])
	if cs == "" {
		cs = "us-ascii"
	}
	ascii := isASCII(text)
	if !asciiCharset(cs) || (!ascii && cs != "us-ascii" && cs != "utf-8" && cs != "utf8") {
		return false
	}
	nl := m.NL
	body := m.Body
	var add []byte
	switch cte := top.cte(); cte {
	case "7bit", "8bit", "binary":
		if len(body) > 0 && !bytes.HasSuffix(body, []byte("\n")) {
			add = append(add, nl...)
		}
		add = append(add, withNL([]byte(text), nl)...)
		if !ascii && cte == "7bit" {
			m.Set("Content-Transfer-Encoding", "8bit")
		}
	case "quoted-printable":
		if bytes.HasSuffix(body, []byte("=\r\n")) {
			body = body[:len(body)-3]
		} else if bytes.HasSuffix(body, []byte("=\n")) {
			body = body[:len(body)-2]
		}
		if len(body) > 0 && !bytes.HasSuffix(body, []byte("\n")) {
			add = append(add, nl...)
		}
		add = append(add, encodeCTE(cte, []byte(text), nl)...)
	case "base64":
		d, err := top.decoded()
		if err != nil {
			return false
		}
		tnl := "\n"
		if bytes.Contains(d, []byte("\r\n")) {
			tnl = "\r\n"
		}
		if len(d) > 0 && !bytes.HasSuffix(d, []byte("\n")) {
			d = append(d, tnl...)
		}
		d = append(d, withNL([]byte(text), tnl)...)
		body, add = nil, encodeCTE(cte, d, nl)
	default:
		return false
	}
	if !ascii && cs == "us-ascii" {
		params := map[string]string{}
		for k, v := range top.params {
			params[k] = v
		}
		params["charset"] = "utf-8"
		m.Set("Content-Type", mime.FormatMediaType("text/plain", params))
	}
	if !m.Has("MIME-Version") && (m.Has("Content-Type") || m.Has("Content-Transfer-Encoding")) {
		m.Add("MIME-Version", "1.0")
	}
	m.Body = append(append([]byte(nil), body...), add...)
	return true
}

// insertPart adds a complete entity as the last part of the top-level
// multipart, just before its close delimiter; every other byte of the body
// (preamble, parts, epilogue) stays as it is.
func insertPart(ctx *Context, top *part, entity []byte) bool {
	if top.broken {
		return false
	}
	bd := top.params["boundary"]
	body := ctx.Msg.Body
	pos := delimiterStart(body, "--"+bd+"--")
	if pos >= len(body) {
		return false
	}
	nl := ctx.Msg.NL
	var b bytes.Buffer
	b.Write(body[:pos])
	b.WriteString("--" + bd + nl)
	b.Write(entity)
	if !bytes.HasSuffix(entity, []byte("\n")) {
		b.WriteString(nl)
	}
	b.WriteString(nl)
	b.Write(body[pos:])
	ctx.Msg.Body = b.Bytes()
	return true
}
