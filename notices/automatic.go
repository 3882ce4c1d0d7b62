package notices

import (
	"strings"

	"cloister/mailmsg"
	"cloister/queue"
)

// Automatic says why a message must get no automatic answer (RFC 3834),
// or "": the null sender, auto-submitted mail, lists and bulk mail, and the
// list's own loop header.
func Automatic(m *queue.Meta, msg *mailmsg.Message) string {
	if m.Sender == "" || strings.EqualFold(m.Sender, "MAILER-DAEMON") {
		return "null sender"
	}
	if as := strings.ToLower(msg.Get("Auto-Submitted")); as != "" && as != "no" {
		return "automatic mail"
	}
	switch strings.ToLower(msg.Get("Precedence")) {
	case "bulk", "list", "junk":
		return "bulk mail"
	}
	for _, v := range msg.Values("X-Loop") {
		if strings.EqualFold(strings.TrimSpace(v), m.List) {
			return "our own mail (X-Loop)"
		}
	}
	return ""
}

// ShouldNotAnswer reports whether a message must get no automatic answer
// (Automatic says why).
func ShouldNotAnswer(m *queue.Meta, msg *mailmsg.Message) bool { return Automatic(m, msg) != "" }

// ClearSubject is the post's subject for notices that travel in clear: empty
// for a post that arrived encrypted (its subject may be protected).
func ClearSubject(m *queue.Meta, msg *mailmsg.Message) string {
	if m.ArrivedEncrypted() {
		return ""
	}
	return mailmsg.CleanValue(mailmsg.DecodeHeader(msg.Get("Subject")))
}
