package notices

import (
	"cmp"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"
	"time"

	"cloister/internal/listaddr"
	"cloister/mailmsg"
)

// Header is the header of a mail Cloister writes itself (a notice, a
// command reply): the fields that stay outside a signature or an
// encryption.
type Header struct {
	From, To, ReplyTo, Subject, InReplyTo string
	List                                  string // the list's posting address, for List-Id and X-Loop
	// Domain, for mail of the site rather than of a list (List empty:
	// the web's login mail), is the domain of the message id; such mail
	// has no List-Id, X-Loop or Precedence.
	Domain string
	// AutoSubmitted is the Auto-Submitted value (RFC 3834): "" is
	// auto-replied, the answer to a mail; auto-generated is for mail no
	// mail asked for.
	AutoSubmitted string
	// ListMail is for the list's own traffic to its members rather than an
	// answer or a notice (a digest): it adds List-Post and
	// List-Unsubscribe after List-Id, and no Auto-Submitted.
	ListMail bool
}

// Bytes writes the header fields (all but MIME-Version and Content-*)
// through mailmsg.HeaderWriter: whatever the subject, addresses and message
// id hold (decoded words, display names), each is one field. The message id
// is new, in the list's domain; the mail says it was written automatically
// (RFC 3834) and by which list (X-Loop, List-Id).
func (h Header) Bytes(now time.Time) []byte {
	b, _ := h.Encode(now)
	return b
}

// Encode is Bytes, and also returns the first field left out and why (an
// address that does not parse, say), for writers that refuse to send
// such a mail.
func (h Header) Encode(now time.Time) ([]byte, error) {
	w := mailmsg.NewHeaderWriter("\n")
	w.Address("From", h.From)
	w.Address("To", h.To)
	w.Address("Reply-To", h.ReplyTo)
	w.Text("Subject", h.Subject)
	w.Field("Date", now.UTC().Format(time.RFC1123Z))
	if h.List == "" {
		w.MsgID("Message-ID", "<"+randomID()+"@"+h.Domain+">")
	} else {
		w.MsgID("Message-ID", MessageID(h.List))
	}
	w.MsgID("In-Reply-To", h.InReplyTo)
	if !h.ListMail {
		w.Field("Auto-Submitted", cmp.Or(h.AutoSubmitted, "auto-replied"))
	}
	if h.List != "" {
		w.Field("Precedence", "list")
		w.Field("X-Loop", h.List)
		w.Field("List-Id", "<"+strings.Replace(h.List, "@", ".", 1)+">")
	}
	if h.ListMail && h.List != "" {
		w.Field("List-Post", "<mailto:"+h.List+">")
		w.Field("List-Unsubscribe", "<mailto:"+listaddr.Address(h.List, listaddr.SubLeave)+">")
	}
	return w.Bytes(), w.Err()
}

// MessageID returns a new message id, <random@domain>, in the domain of
// the list address list.
func MessageID(list string) string {
	return "<" + randomID() + "@" + listaddr.Domain(list) + ">"
}

// Part is a file sent with a mail (the list's key, a held post).
type Part struct {
	Type, Name string
	Data       []byte
	// Raw attaches Data as it is (a message/rfc822), not base64.
	Raw bool
}

// Entity returns the MIME entity of a mail's content, with its Content-*
// fields and LF line endings: body as text/plain, or, with parts,
// multipart/mixed with the text and the parts (base64 unless Raw).
func Entity(body string, parts []Part) []byte {
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	var b strings.Builder
	if len(parts) == 0 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
		b.WriteString(body)
		return []byte(b.String())
	}
	boundary := "=_cloister_" + randomID()
	for _, p := range parts {
		for strings.Contains(string(p.Data), boundary) {
			boundary = "=_cloister_" + randomID()
		}
	}
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", boundary)
	fmt.Fprintf(&b, "--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s", boundary, body)
	for _, p := range parts {
		h := mailmsg.NewHeaderWriter("\n")
		disposition := "attachment"
		if p.Name != "" {
			disposition = mime.FormatMediaType("attachment", map[string]string{"filename": p.Name})
		}
		if p.Raw {
			h.Field("Content-Type", p.Type)
			h.Field("Content-Disposition", disposition)
			fmt.Fprintf(&b, "\n--%s\n%s\n", boundary, h.Bytes())
			b.Write(p.Data)
			if len(p.Data) == 0 || p.Data[len(p.Data)-1] != '\n' {
				b.WriteByte('\n')
			}
			continue
		}
		ctype := p.Type
		if p.Name != "" {
			ctype = mime.FormatMediaType(p.Type, map[string]string{"name": p.Name})
		}
		h.Field("Content-Type", ctype)
		h.Field("Content-Disposition", disposition)
		h.Field("Content-Transfer-Encoding", "base64")
		fmt.Fprintf(&b, "\n--%s\n%s\n", boundary, h.Bytes())
		enc := base64.StdEncoding.EncodeToString(p.Data)
		for len(enc) > 76 {
			b.WriteString(enc[:76] + "\n")
			enc = enc[76:]
		}
		b.WriteString(enc + "\n")
	}
	fmt.Fprintf(&b, "\n--%s--\n", boundary)
	return []byte(b.String())
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}
