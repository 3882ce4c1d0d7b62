// Package resend lets a list that must write to outsiders (a CERT, a help
// desk) do so from the list: a member's signed post whose text starts with lines
//
//	resend ADDRESS[, ADDRESS...]                 one copy to each address (each keyword also
//	                                             with Schleuder's x- prefix: x-resend)
//	resend-encrypted-only ADDRESS[, ...]         the same, refused where no key is known
//	resend-cc ADDRESS[, ...]                     one copy to all, each seeing the others
//	resend-cc-encrypted-only ADDRESS[, ...]
//
// sends the post (without those lines) on to those addresses from the list,
// signed by the list and encrypted to each address that has a key on file.
// When an address has none and the list's resend_fetch_keys is on, its
// OpenPGP key is looked for by WKD and on the site's keyserver
// (fetch.go); a key found is added to the keyring and used. A post
// that arrived encrypted is resent only encrypted. The list gets a report of
// what went where (and where a key came from, or why there is none). The
// lines are removed from the post in every case; an unsigned post's orders
// are refused.
package resend

import (
	"bytes"
	"context"
	"fmt"
	"mime"
	"net/mail"
	"regexp"
	"strings"
	"time"

	"cloister/handlers"
	"cloister/internal/decision"
	"cloister/internal/refusal"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/smime"
	"cloister/notices"
	"cloister/ownmail"
	"cloister/queue"
)

// maxResend bounds the addresses of one post's orders.
const maxResend = 20

var resendLine = regexp.MustCompile(`(?i)^(?:x-)?(resend(?:-cc)?(?:-encrypted-only)?):?[ \t]+(.+)$`)

// Order is one keyword line: the addresses it names, whether they get one
// copy each or one for all (CC), and whether the copies must be encrypted.
type Order struct {
	CC, EncryptedOnly bool
	Addrs             []string
}

// Take finds the keyword lines at the top of the post's text and
// removes them from msg. It handles a text/plain post (7bit, 8bit or no
// encoding) and the same inside multipart/signed or an opaque S/MIME
// signature, which it then drops (the text changed; the list signs what it
// sends). ok is false when
// the post has no keyword lines (or a shape they cannot be taken from).
func Take(msg *mailmsg.Message) (orders []Order, bad []string, ok bool) {
	head, text, readable := PostText(msg)
	if !readable {
		return nil, nil, false
	}
	rest := SkipBlankLines(text)
	n := 0
	for len(rest) > 0 {
		line, after := CutLine(rest)
		m := resendLine.FindSubmatch(bytes.TrimRight(line, "\r\n"))
		if m == nil {
			break
		}
		kw := strings.ToLower(string(m[1]))
		o := Order{CC: strings.Contains(kw, "-cc"), EncryptedOnly: strings.HasSuffix(kw, "-encrypted-only")}
		for _, a := range strings.FieldsFunc(string(m[2]), func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			addr, err := mail.ParseAddress(a)
			if err != nil || n >= maxResend {
				bad = append(bad, a)
				continue
			}
			o.Addrs = append(o.Addrs, strings.ToLower(addr.Address))
			n++
		}
		if len(o.Addrs) > 0 {
			orders = append(orders, o)
		}
		ok = true
		rest = after
	}
	if !ok {
		return nil, nil, false
	}
	SetPostText(msg, head, rest)
	return orders, bad, true
}

// CutLine returns text's first line (with its line break) and what follows
// it, without splitting the rest of a large post into lines.
func CutLine(text []byte) (line, rest []byte) {
	if i := bytes.IndexByte(text, '\n'); i >= 0 {
		return text[:i+1], text[i+1:]
	}
	return text, nil
}

// SkipBlankLines returns text from its first line that is not blank.
func SkipBlankLines(text []byte) []byte {
	for len(text) > 0 {
		line, rest := CutLine(text)
		if len(bytes.TrimSpace(line)) != 0 {
			return text
		}
		text = rest
	}
	return text
}

// PostText returns the text of a post whose keyword lines Cloister reads
// (resend, attach-listkey): the body of a text/plain post (7bit, 8bit or
// no encoding), or the text part inside multipart/signed or an opaque
// S/MIME signature, with that part's Content-* fields (head). ok is false
// for any other shape.
func PostText(msg *mailmsg.Message) (head []*mailmsg.Field, text []byte, ok bool) {
	ctype := strings.ToLower(msg.Get("Content-Type"))
	switch {
	case ctype == "" || strings.HasPrefix(ctype, "text/plain"):
		text = msg.Body
	case strings.HasPrefix(ctype, "multipart/signed"):
		// The body is split as it is, not the whole post copied to parse it.
		_, params, err := mime.ParseMediaType(msg.Get("Content-Type"))
		if err != nil {
			return nil, nil, false
		}
		parts, err := rawmime.SplitMultipart(msg.Body, params["boundary"], 10)
		if err != nil || len(parts) != 2 {
			return nil, nil, false
		}
		var readable bool
		if head, text, readable = signedText(parts[0]); !readable {
			return nil, nil, false
		}
	case strings.HasPrefix(ctype, "application/pkcs7-mime"), strings.HasPrefix(ctype, "application/x-pkcs7-mime"):
		content, isOpaque := smime.OpaqueContent(msg.Bytes())
		if !isOpaque {
			return nil, nil, false
		}
		var readable bool
		if head, text, readable = signedText(content); !readable {
			return nil, nil, false
		}
	default:
		return nil, nil, false
	}
	switch cte := strings.ToLower(strings.TrimSpace(msg.Get("Content-Transfer-Encoding"))); {
	case head != nil:
	case cte != "" && cte != "7bit" && cte != "8bit":
		return nil, nil, false
	}
	return head, text, true
}

// SetPostText makes text the post's content: for a signed post (head set)
// the signature is unwrapped and the text part's Content-* fields replace
// the message's (the text changed; the list signs what it sends).
func SetPostText(msg *mailmsg.Message, head []*mailmsg.Field, text []byte) {
	if head != nil {
		var fields []*mailmsg.Field
		for _, f := range msg.Fields {
			if !strings.HasPrefix(strings.ToLower(f.Name), "content-") {
				fields = append(fields, f)
			}
		}
		msg.Fields = append(fields, head...)
	}
	msg.Body = text
}

// Run carries out a post's orders: one outgoing entry per copy, and a
// report to the list. m is the accepted post's metadata, msg the post with
// the keyword lines removed (and the list's handlers not yet run).
//
// Key lookups stop when ctx ends (the runner stops): Run then returns
// ctx's error and sends nothing, so that the post is processed again rather
// than an address being taken as keyless.
func Run(ctx context.Context, j *Job, list *lists.List, m *queue.Meta, msg *mailmsg.Message, orders []Order, bad []string, members []string) error {
	var report []refusal.Reason
	signed := m.Auth == "pgp" || m.Auth == "smime"
	for _, a := range bad {
		report = append(report, refusal.Reasonf("%s: refused, not a usable address (or more than %d addresses)", a, maxResend))
	}
	fctx, cancel := context.WithTimeout(ctx, resendFetchBudget)
	defer cancel()
	keys := newResendKeys(fctx, j, list)
	copies := 0
	for _, o := range orders {
		var groups [][]string
		if o.CC {
			groups = [][]string{o.Addrs}
		} else {
			for _, a := range o.Addrs {
				groups = append(groups, []string{a})
			}
		}
		for _, g := range groups {
			var send []string
			for _, a := range g {
				if !signed {
					report = append(report, refusal.Reasonf("%s: refused, resend needs a post signed by a member", a))
					continue
				}
				keyed, fetched, why := keys.lookup(a)
				switch {
				case (o.EncryptedOnly || m.ArrivedEncrypted()) && !keyed:
					report = append(report, refusal.Reasonf("%s: refused, %s; the copy must be encrypted", a, why))
				case !fetched.IsZero():
					send = append(send, a)
					report = append(report, refusal.Reasonf("%s: sent, encrypted to its key %s, and signed by the list", a, fetched))
				case keyed:
					send = append(send, a)
					report = append(report, refusal.Reasonf("%s: sent, encrypted to its key and signed by the list", a))
				default:
					send = append(send, a)
					report = append(report, refusal.Reasonf("%s: sent, signed by the list, not encrypted (%s)", a, why))
				}
			}
			if len(send) == 0 {
				continue
			}
			out := &mailmsg.Message{NL: msg.NL, Body: msg.Body}
			for _, f := range msg.Fields {
				switch strings.ToLower(f.Name) {
				case "from", "to", "cc", "reply-to", "sender", "return-path", "delivered-to", "received", "message-id":
					continue
				}
				out.Fields = append(out.Fields, f)
			}
			if pfx := list.Settings.SubjectPrefixOut; strings.TrimSpace(pfx) != "" {
				out.Set("Subject", mailmsg.EncodeText(handlers.PrefixSubject(mailmsg.DecodeHeader(out.Get("Subject")), pfx)))
			}
			out.Prepend("Reply-To", list.Address)
			to, err := mailmsg.FormatAddresses(g...) // parsed in resendOrders: cannot fail
			if err != nil {
				return fmt.Errorf("resend: %w", err)
			}
			out.Prepend("To", to)
			out.Prepend("From", list.Address)
			out.Add("Message-ID", notices.MessageID(list.Address))
			// The copy carries the post: one of an encrypted post leaves only
			// encrypted to each address's key (package ownmail).
			rm := ownmail.Meta(list.Address, "resend", m, true, j.Now, send...)
			rm.ID = fmt.Sprintf("%s-resend-%d", m.ID, copies)
			rm.AddStage("pipeline", "resend")
			j.Send(queue.Out, rm, out.Bytes())
			copies++
		}
	}
	j.Log.Info("decision", "decision", decision.Resend, "copies", copies, "from", m.From)
	n, err := notices.ForList(j.Site, list, "resend_report", list.Address, map[string]any{
		"List": list.Address, "From": m.From, "Subject": mailmsg.DecodeHeader(msg.Get("Subject")), "Lines": report,
	})
	if err != nil {
		return fmt.Errorf("resend report: %w", err)
	}
	n.From = list.Address
	// The report names the outsiders and the subject: as private as the post.
	nm := n.MetaFrom("notice", m, true, members...)
	nm.ID = m.ID + "-resend-report"
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("resend: stopped during key lookups: %w", err)
	}
	j.Send(queue.Out, nm, n.Bytes(j.Now))
	return nil
}

// canEncrypt reports whether mail from the list to addr can be encrypted
// (ownmail.CanEncrypt).
func canEncrypt(s *site.Site, list, addr string, now time.Time) bool {
	return ownmail.CanEncrypt(s, list, addr, now)
}

// signedText returns the Content-* fields and text of a signed entity that
// resend lines can be taken from: text/plain, or no Content-Type.
func signedText(entity []byte) (head []*mailmsg.Field, text []byte, ok bool) {
	inner, err := mailmsg.Parse(entity)
	if err != nil {
		return nil, nil, false
	}
	ict := strings.ToLower(inner.Get("Content-Type"))
	if ict != "" && !strings.HasPrefix(ict, "text/plain") {
		return nil, nil, false
	}
	return inner.Fields, inner.Body, true
}
