package commands

import (
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

// message is a mail the commands write: the reply, confirmation requests,
// requests to owners, welcomes.
type message struct {
	From, To, ReplyTo, Subject, InReplyTo string
	List                                  string // the list's posting address, for List-Id and X-Loop
	Body                                  string
	Attach                                []attachment
	// encryptTo, when set, is the only key the message may be sent
	// encrypted to (a key set challenge); it is never sent in clear.
	encryptTo *offeredKey
	// clear, when set, sends the message signed by the list but never
	// encrypted (a key announcement must be readable by the address's
	// holder even when the key just bound to it is not theirs).
	clear bool
}

// attachment is a file sent with a message (the list's key).
type attachment struct {
	Type, Name string
	Data       []byte
	// Raw attaches Data as it is (a message/rfc822), not base64.
	Raw bool
}

// outer returns the header fields that stay outside a signature or an
// encryption, without MIME-Version and the Content-* fields.
func (m *message) outer(now time.Time) []byte {
	h := mailmsg.NewHeaderWriter("\n")
	h.Address("From", m.From)
	h.Address("To", m.To)
	h.Address("Reply-To", m.ReplyTo)
	h.Text("Subject", m.Subject)
	h.Field("Date", now.UTC().Format(time.RFC1123Z))
	h.MsgID("Message-ID", "<"+randomID()+"@"+listaddr.Domain(m.List)+">")
	h.MsgID("In-Reply-To", m.InReplyTo)
	h.Field("Auto-Submitted", "auto-replied")
	h.Field("Precedence", "list")
	h.Field("X-Loop", m.List)
	h.Field("List-Id", "<"+strings.Replace(m.List, "@", ".", 1)+">")
	return h.Bytes()
}

// inner returns the MIME entity of the content: text/plain, or
// multipart/mixed with the attachments (base64).
func (m *message) inner() []byte {
	body := m.Body
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	var b strings.Builder
	if len(m.Attach) == 0 {
		b.WriteString("Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
		b.WriteString(body)
		return []byte(b.String())
	}
	boundary := "=_cloister_" + randomID()
	for _, a := range m.Attach {
		for strings.Contains(string(a.Data), boundary) {
			boundary = "=_cloister_" + randomID()
		}
	}
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=\"%s\"\n\n", boundary)
	fmt.Fprintf(&b, "--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s", boundary, body)
	for _, a := range m.Attach {
		h := mailmsg.NewHeaderWriter("\n")
		disposition := mime.FormatMediaType("attachment", map[string]string{"filename": a.Name})
		if a.Raw {
			h.Field("Content-Type", a.Type)
			h.Field("Content-Disposition", disposition)
			fmt.Fprintf(&b, "\n--%s\n%s\n", boundary, h.Bytes())
			b.Write(a.Data)
			if len(a.Data) > 0 && a.Data[len(a.Data)-1] != '\n' {
				b.WriteByte('\n')
			}
			continue
		}
		h.Field("Content-Type", mime.FormatMediaType(a.Type, map[string]string{"name": a.Name}))
		h.Field("Content-Disposition", disposition)
		h.Field("Content-Transfer-Encoding", "base64")
		fmt.Fprintf(&b, "\n--%s\n%s\n", boundary, h.Bytes())
		enc := base64.StdEncoding.EncodeToString(a.Data)
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
