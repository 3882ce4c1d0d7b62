package handlers

import (
	"io"
	"mime"
	"net/mail"
	"strings"

	"golang.org/x/text/unicode/norm"

	"cloister/mailmsg"
)

// FromName drops the display name of the From field when it holds an
// address other than the From address itself, as in
// `From: "ann@example.org" <bob@example.org>` (also RFC 2047 encoded, or
// written with a fullwidth at sign): mail clients show the name, and the
// list would vouch for it with its own signature. It applies to every post
// the list distributes, authenticated or not: an authenticated post is the
// worst case (the name rides on a good signature by bob), but a list that
// signs its copies re-signs the unauthenticated ones too. The address is
// kept; the name is dropped. Likewise a Sender field that names anyone but
// the From address is dropped.
type FromName struct{}

// Name implements Handler.
func (FromName) Name() string { return "from-name" }

// Description implements Handler.
func (FromName) Description() string {
	return "drop a From display name that holds an address other than the From address, and a Sender naming another"
}

// Process implements Handler. A From that does not hold exactly one
// parsable address is left alone: its post cannot be authenticated
// (signer-mismatch), and there is no address to keep. Encoded words in a
// charset no decoder knows are read byte for byte, so that an at sign
// hidden in one is still seen.
func (h FromName) Process(ctx *Context) error {
	vals := ctx.Msg.Values("From")
	if len(vals) != 1 {
		return nil
	}
	list, err := mailmsg.ParseAddressList(vals[0])
	if err != nil {
		list, err = rawCharsetParser.ParseList(vals[0])
	}
	if err != nil || len(list) != 1 {
		return nil
	}
	a := list[0]
	if otherSender(ctx.Msg.Values("Sender"), a.Address) {
		ctx.Msg.Del("Sender")
	}
	if !namesOtherAddress(a.Name, a.Address) {
		return nil
	}
	ctx.Msg.Set("From", (&mail.Address{Address: a.Address}).String())
	return nil
}

// otherSender reports whether the Sender fields name anyone but from (or
// cannot be read): clients show such a Sender beside From ("ann on behalf
// of bob"), and on the list's copy it would ride on bob's signature or the
// list's.
func otherSender(vals []string, from string) bool {
	for _, v := range vals {
		a, err := mailmsg.ParseAddressList(v)
		if err != nil || len(a) != 1 || !strings.EqualFold(a[0].Address, from) || namesOtherAddress(a[0].Name, a[0].Address) {
			return true
		}
	}
	return false
}

// rawCharsetParser decodes RFC 2047 words of any charset as their bytes.
var rawCharsetParser = mail.AddressParser{WordDecoder: &mime.WordDecoder{
	CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
}}

// namesOtherAddress reports whether a decoded display name holds an at
// sign once every occurrence of addr is taken out: an address-like text
// other than the sender's own. The name is first put in NFKC form, which
// turns the fullwidth and small at signs (U+FF20, U+FE6B) into "@".
func namesOtherAddress(name, addr string) bool {
	if name == "" {
		return false
	}
	n := strings.ToLower(norm.NFKC.String(name))
	if a := strings.ToLower(addr); a != "" {
		n = strings.ReplaceAll(n, a, "")
	}
	return strings.Contains(n, "@")
}
