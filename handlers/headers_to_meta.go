package handlers

import (
	"strings"

	"cloister/mailmsg"
)

// HeadersToMeta puts pseudo-headers in a first text part of the post (after
// Schleuder's headers_to_meta): the From, To, Cc and Date the post carries,
// who signed it (Sig) and whether it arrived encrypted (Enc), as many as the
// list's headers_to_meta names. In encrypted copies they travel inside the
// encryption, where they tell the reader what the list saw when the outer
// header shows only "...". The post follows as the second part of a new
// multipart/mixed, byte for byte, so a signature on it still verifies. Each
// value is one line (a crafted header cannot add a line such as a forged
// Sig). An anonymous list never shows From, nor who signed in Sig.
type HeadersToMeta struct{}

// Name implements Handler.
func (HeadersToMeta) Name() string { return "headers-to-meta" }

// Description implements Handler.
func (HeadersToMeta) Description() string {
	return "put From, To, Cc, Date, Sig and Enc pseudo-headers in a first text part (setting headers_to_meta)"
}

// Process implements Handler.
func (h HeadersToMeta) Process(ctx *Context) error {
	want := strings.Fields(ctx.settings().HeadersToMeta)
	if len(want) == 0 {
		return nil
	}
	anonymous := ctx.settings().Anonymous
	var b strings.Builder
	line := func(name, value string) {
		if value = mailmsg.CleanValue(value); value != "" {
			b.WriteString(name + ": " + value + "\n")
		}
	}
	for _, w := range want {
		switch w {
		case "from":
			if !anonymous {
				line("From", mailmsg.DecodeHeader(ctx.Msg.Get("From")))
			}
		case "to":
			line("To", mailmsg.DecodeHeader(strings.Join(ctx.Msg.Values("To"), ", ")))
		case "cc":
			line("Cc", mailmsg.DecodeHeader(strings.Join(ctx.Msg.Values("Cc"), ", ")))
		case "date":
			line("Date", ctx.Msg.Get("Date"))
		case "sig":
			line("Sig", sigMeta(ctx, anonymous))
		case "enc":
			line("Enc", encMeta(ctx))
		}
	}
	if b.Len() == 0 {
		return nil
	}
	wrapMixedAfter(ctx.Msg, textPart(b.String(), ctx.Msg.NL, map[string]string{"Content-Description": "what the list saw"}))
	return nil
}

// sigMeta says who signed the post, from the incoming runner's verdict.
func sigMeta(ctx *Context, anonymous bool) string {
	m := ctx.Meta
	if m == nil {
		return ""
	}
	who := ""
	if !anonymous {
		if m.SignerFpr != "" {
			who = " " + m.SignerFpr
		}
		if len(m.SignerAddresses) > 0 {
			who += " (" + strings.Join(m.SignerAddresses, ", ") + ")"
		}
	}
	switch m.Verdict {
	case "", "none":
		return "Unsigned"
	case "good":
		return "Good signature from" + who
	case "signer-mismatch":
		return "Good signature from" + who + ", which is not the From address"
	case "unknown-key":
		return "Signature by an unknown key" + who
	case "expired":
		return "Signature by an expired key" + who
	case "revoked":
		return "Signature by a revoked key" + who
	case "bad":
		return "Bad signature"
	}
	return "Signature not verified (" + m.Verdict + ")"
}

// encMeta says whether and how the post arrived encrypted.
func encMeta(ctx *Context) string {
	if ctx.Meta == nil {
		return "Unencrypted"
	}
	switch ctx.Meta.Encryption {
	case "pgp-mime":
		return "Encrypted (OpenPGP/MIME)"
	case "pgp-inline":
		return "Encrypted (inline OpenPGP)"
	case "smime":
		return "Encrypted (S/MIME)"
	}
	return "Unencrypted"
}
