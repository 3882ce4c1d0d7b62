package commands

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"
	"time"

	"cloister/listaddr"
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
	var b strings.Builder
	fmt.Fprintf(&b, "From: %s\n", m.From)
	fmt.Fprintf(&b, "To: %s\n", m.To)
	if m.ReplyTo != "" {
		fmt.Fprintf(&b, "Reply-To: %s\n", m.ReplyTo)
	}
	fmt.Fprintf(&b, "Subject: %s\n", encodeWord(m.Subject))
	fmt.Fprintf(&b, "Date: %s\n", now.UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\n", randomID(), listaddr.Domain(m.List))
	if m.InReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: %s\n", m.InReplyTo)
	}
	b.WriteString("Auto-Submitted: auto-replied\nPrecedence: list\n")
	fmt.Fprintf(&b, "X-Loop: %s\n", m.List)
	fmt.Fprintf(&b, "List-Id: <%s>\n", strings.Replace(m.List, "@", ".", 1))
	return []byte(b.String())
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
		if a.Raw {
			fmt.Fprintf(&b, "\n--%s\nContent-Type: %s\nContent-Disposition: attachment; filename=\"%s\"\n\n", boundary, a.Type, a.Name)
			b.Write(a.Data)
			if len(a.Data) > 0 && a.Data[len(a.Data)-1] != '\n' {
				b.WriteByte('\n')
			}
			continue
		}
		fmt.Fprintf(&b, "\n--%s\nContent-Type: %s; name=\"%s\"\nContent-Disposition: attachment; filename=\"%s\"\nContent-Transfer-Encoding: base64\n\n",
			boundary, a.Type, a.Name, a.Name)
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

// bytes renders the message in clear.
func (m *message) bytes(now time.Time) []byte {
	out := append(m.outer(now), "MIME-Version: 1.0\n"...)
	return append(out, m.inner()...)
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// encodeWord encodes a subject with RFC 2047 when it is not ASCII.
func encodeWord(s string) string {
	for _, r := range s {
		if r > 127 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}
