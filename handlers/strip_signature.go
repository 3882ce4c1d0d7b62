package handlers

import (
	"bytes"
	"regexp"
)

// StripSignature removes the author's signature block (from the last line
// that is exactly "-- " to the end, RFC 3676 4.3) from the plain text body
// when strip_original_signature is on. The text is the post itself when it
// is text/plain, or the first part of a multipart/mixed when that is
// text/plain. Signed or encrypted content is never touched.
type StripSignature struct{}

// Name implements Handler.
func (StripSignature) Name() string { return "strip-signature" }

// Description implements Handler.
func (StripSignature) Description() string {
	return `remove the author's "-- " signature block from the text (setting strip_original_signature)`
}

// sigSeparator matches the signature separator line.
var sigSeparator = regexp.MustCompile(`(?m)^-- \r?$`)

// Process implements Handler.
func (h StripSignature) Process(ctx *Context) error {
	if !ctx.settings().StripOriginalSignature {
		return nil
	}
	if stripped, why := stripSignature(ctx); why != "" {
		ctx.Note(h, "not stripped: %s", why)
	} else if stripped {
		ctx.Note(h, "signature block removed")
	}
	return nil
}

// stripSignature does the work of StripSignature; why says why it could not.
func stripSignature(ctx *Context) (stripped bool, why string) {
	tree, err := parseTree(ctx.Msg)
	if err != nil {
		return false, err.Error()
	}
	if tree.sealed() {
		return false, "the post is signed or encrypted"
	}
	target := tree
	if tree.mt == "multipart/mixed" && len(tree.children) > 0 {
		target = tree.children[0]
	}
	if target.mt != "text/plain" || target.children != nil {
		return false, ""
	}
	cte := target.cte()
	d, err := target.decoded()
	if err != nil {
		return false, err.Error()
	}
	cut := cutSignature(d)
	if len(cut) == len(d) {
		return false, ""
	}
	var body []byte
	switch cte {
	case "7bit", "8bit", "binary":
		body = cut
	case "quoted-printable", "base64":
		body = encodeCTE(cte, cut, ctx.Msg.NL)
	default:
		return false, "unknown transfer encoding " + cte
	}
	if target == tree {
		ctx.Msg.Body = body
		return true, ""
	}
	target.raw = append(append(append([]byte(nil), target.header...), ctx.Msg.NL...), body...)
	tree.changed = true
	ctx.Msg.Body = tree.bodyBytes(ctx.Msg.NL)
	return true, ""
}

// cutSignature returns text up to the last signature separator line.
func cutSignature(text []byte) []byte {
	locs := sigSeparator.FindAllIndex(text, -1)
	if len(locs) == 0 {
		return text
	}
	return bytes.Clone(text[:locs[len(locs)-1][0]])
}
