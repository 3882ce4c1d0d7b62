package runners

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"strings"
	"time"

	"cloister/listaddr"
	"cloister/mailmsg"
	"cloister/queue"
)

// Notice is a message Cloister writes itself: replies, held-post notices,
// forwards to owners.
type Notice struct {
	From, To, Subject string
	Body              string
	InReplyTo         string
	List              string // the list's posting address, for List-Id and X-Loop
}

// Bytes renders the notice as a plain-text message with LF line endings.
func (n *Notice) Bytes(now time.Time) []byte {
	var b strings.Builder
	domain := listaddr.Domain(n.List)
	fmt.Fprintf(&b, "From: %s\n", n.From)
	fmt.Fprintf(&b, "To: %s\n", n.To)
	fmt.Fprintf(&b, "Subject: %s\n", mimeEncodeWord(n.Subject))
	fmt.Fprintf(&b, "Date: %s\n", now.UTC().Format(time.RFC1123Z))
	fmt.Fprintf(&b, "Message-ID: <%s@%s>\n", randomID(), domain)
	if n.InReplyTo != "" {
		fmt.Fprintf(&b, "In-Reply-To: %s\n", n.InReplyTo)
	}
	fmt.Fprintf(&b, "Auto-Submitted: auto-replied\n")
	fmt.Fprintf(&b, "Precedence: list\n")
	fmt.Fprintf(&b, "X-Loop: %s\n", n.List)
	fmt.Fprintf(&b, "List-Id: <%s>\n", strings.Replace(n.List, "@", ".", 1))
	fmt.Fprintf(&b, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
	b.WriteString(n.Body)
	if !strings.HasSuffix(n.Body, "\n") {
		b.WriteByte('\n')
	}
	return []byte(b.String())
}

// Meta returns the metadata of the notice as an outgoing entry.
func (n *Notice) Meta(kind string, rcpts ...string) *queue.Meta {
	m := &queue.Meta{
		List:       n.List,
		Subaddress: queue.SubPost,
		Kind:       kind,
		Recipients: rcpts,
		EnvFrom:    listaddr.Address(n.List, queue.SubBounces),
		Received:   time.Now().UTC(),
		Encryption: "none",
	}
	return m
}

func randomID() string {
	b := make([]byte, 12)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// mimeEncodeWord encodes a subject with RFC 2047 when it is not ASCII.
func mimeEncodeWord(s string) string {
	for _, r := range s {
		if r > 127 {
			return mime.QEncoding.Encode("utf-8", s)
		}
	}
	return s
}

// shouldNotAnswer reports whether a message must not get an automatic reply
// (RFC 3834): the null sender, auto-submitted mail, lists and bulk mail, and
// our own loop header.
func shouldNotAnswer(m *queue.Meta, msg *mailmsg.Message) bool {
	if m.Sender == "" || strings.EqualFold(m.Sender, "MAILER-DAEMON") {
		return true
	}
	if as := strings.ToLower(msg.Get("Auto-Submitted")); as != "" && as != "no" {
		return true
	}
	switch strings.ToLower(msg.Get("Precedence")) {
	case "bulk", "list", "junk":
		return true
	}
	for _, v := range msg.Values("X-Loop") {
		if strings.EqualFold(strings.TrimSpace(v), m.List) {
			return true
		}
	}
	return false
}
