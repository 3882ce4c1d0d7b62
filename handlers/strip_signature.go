package handlers

import "bytes"

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

// Process implements Handler.
func (h StripSignature) Process(ctx *Context) error {
	if !ctx.settings().StripOriginalSignature {
		return nil
	}
	stripSignature(ctx)
	return nil
}

// stripSignature does the work of StripSignature: it leaves a post it cannot
// edit safely (unreadable, signed or encrypted, of an unknown transfer
// encoding) as it is.
func stripSignature(ctx *Context) {
	tree, err := parseTree(ctx.Msg)
	if err != nil {
		return
	}
	if tree.sealed() {
		return
	}
	target := tree
	if tree.mt == "multipart/mixed" && len(tree.children) > 0 {
		target = tree.children[0]
	}
	if target.mt != "text/plain" || target.children != nil {
		return
	}
	cte := target.cte()
	d, err := target.decoded()
	if err != nil {
		return
	}
	cut := cutSignature(d)
	if len(cut) == len(d) {
		return
	}
	var body []byte
	switch cte {
	case "7bit", "8bit", "binary":
		body = cut
	case "quoted-printable", "base64":
		body = encodeCTE(cte, cut, ctx.Msg.NL)
	default:
		return
	}
	if target == tree {
		ctx.Msg.Body = body
		return
	}
	target.raw = append(append(append([]byte(nil), target.header...), ctx.Msg.NL...), body...)
	tree.changed = true
	ctx.Msg.Body = tree.bodyBytes(ctx.Msg.NL)
}

// cutSignature returns text up to the last signature separator line
// ("-- " alone on its line), scanning backwards in linear time.
func cutSignature(text []byte) []byte {
	sep := []byte("-- ")
	for end := len(text); end > 0; {
		i := bytes.LastIndex(text[:end], sep)
		if i < 0 {
			break
		}
		rest := text[i+len(sep):]
		if (i == 0 || text[i-1] == '\n') && (len(rest) == 0 || rest[0] == '\n' || (rest[0] == '\r' && (len(rest) == 1 || rest[1] == '\n'))) {
			return bytes.Clone(text[:i])
		}
		end = i
	}
	return text
}
