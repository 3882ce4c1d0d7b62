package runners

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"cloister/internal/listaddr"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/mailtext"
	"cloister/queue"
	"cloister/rules"
)

// Notice is a message Cloister writes itself: replies, held-post notices,
// rejections, confirmation requests, forwards to owners.
type Notice struct {
	From, To, Subject string
	Body              string
	InReplyTo         string
	List              string // the list's posting address, for List-Id and X-Loop
	// ReplyTo, when set, is the Reply-To field (a LIST-confirm+TOKEN address
	// for notices answered by a reply).
	ReplyTo string
	// Attach, when set, is a message attached to the notice as
	// message/rfc822: a post that arrived in clear, or one that arrived
	// encrypted for a recipient the list can encrypt to (its metadata,
	// from MetaFrom, then says it carries the post).
	Attach []byte
}

// Bytes renders the notice with LF line endings: text/plain, or
// multipart/mixed with the text and the attached message when Attach is set.
func (n *Notice) Bytes(now time.Time) []byte {
	var b strings.Builder
	domain := listaddr.Domain(n.List)
	b.Write(ownHeader(n.From, n.To, n.ReplyTo, n.Subject, n.InReplyTo, n.List, domain, now))
	body := n.Body
	if !strings.HasSuffix(body, "\n") {
		body += "\n"
	}
	if n.Attach == nil {
		fmt.Fprintf(&b, "MIME-Version: 1.0\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n")
		b.WriteString(body)
		return []byte(b.String())
	}
	boundary := "=_cloister_" + randomID()
	for bytes.Contains(n.Attach, []byte(boundary)) {
		boundary = "=_cloister_" + randomID()
	}
	fmt.Fprintf(&b, "MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"%s\"\n\n", boundary)
	fmt.Fprintf(&b, "--%s\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: 8bit\n\n%s", boundary, body)
	fmt.Fprintf(&b, "\n--%s\nContent-Type: message/rfc822\nContent-Disposition: attachment\n\n", boundary)
	b.Write(n.Attach)
	if !bytes.HasSuffix(n.Attach, []byte("\n")) {
		b.WriteByte('\n')
	}
	fmt.Fprintf(&b, "\n--%s--\n", boundary)
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

// ownHeader writes the header fields of a notice (all but MIME-Version and
// Content-*) through mailmsg.HeaderWriter: whatever the subject, addresses
// and message id hold (decoded words, display names), each is one field.
func ownHeader(from, to, replyTo, subject, inReplyTo, list, domain string, now time.Time) []byte {
	h := mailmsg.NewHeaderWriter("\n")
	h.Address("From", from)
	h.Address("To", to)
	h.Address("Reply-To", replyTo)
	h.Text("Subject", subject)
	h.Field("Date", now.UTC().Format(time.RFC1123Z))
	h.MsgID("Message-ID", "<"+randomID()+"@"+domain+">")
	h.MsgID("In-Reply-To", inReplyTo)
	h.Field("Auto-Submitted", "auto-replied")
	h.Field("Precedence", "list")
	h.Field("X-Loop", list)
	h.Field("List-Id", "<"+strings.Replace(list, "@", ".", 1)+">")
	return h.Bytes()
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

// TemplateDirs returns the override directories of a list's notices, most
// specific first: the list's, then the site's (see package mailtext).
func TemplateDirs(s *site.Site, list string) []string {
	return mailtext.Dirs(s.Config.StateDir, list)
}

// RenderTemplate renders the notice template name for a list (its override
// directories and language) and returns the subject and the body (see
// package mailtext).
func RenderTemplate(dirs []string, lang, name string, data any) (subject, body string, err error) {
	return mailtext.Render(dirs, lang, name, data)
}

// listNotice renders the template for list and returns a notice from the
// list's owner address to to.
func listNotice(s *site.Site, list *lists.List, name, to string, data any) (*Notice, error) {
	data = translateReason(s, list, data)
	subject, body, err := RenderTemplate(TemplateDirs(s, list.Address), list.Settings.Language, name, data)
	if err != nil {
		return nil, err
	}
	return &Notice{
		List:    list.Address,
		From:    listaddr.Address(list.Address, queue.SubOwner),
		To:      to,
		Subject: subject,
		Body:    body,
	}, nil
}

// reasonTexts are the words a rejection notice uses for the reason keys of
// the built-in scenarios (docs/scenarios.md); other keys are shown as written.
var reasonTexts = map[string]rules.Reason{
	"send_subscriber":   rules.Reasonf("only members of the list may post to it"),
	"send_editor":       rules.Reasonf("only the list's moderators may post to it"),
	"send_closed":       rules.Reasonf("nobody may post to this list"),
	"send_pgp_signed":   rules.Reasonf("members must sign their posts with OpenPGP"),
	"send_smime_signed": rules.Reasonf("members must sign their posts with S/MIME"),
	"no rule matched":   rules.Reasonf("the list's rules do not allow this post"),
}

// translateReason returns the notice data with its Reason, when it is a
// rules.Reason or rules.Reasons (a catalogue format and its arguments),
// rendered in the list's language from the message catalogue (package
// mailtext). A Reason that is a string is words someone wrote (a
// moderator's) and is shown as written; a broken override catalogue
// (logged) leaves the reason in English.
func translateReason(s *site.Site, list *lists.List, data any) any {
	m, ok := data.(map[string]any)
	if !ok {
		return data
	}
	var render func(rules.Translator) string
	switch r := m["Reason"].(type) {
	case rules.Reason:
		render = r.Render
	case rules.Reasons:
		render = r.Render
	default:
		return data
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	cat, err := mailtext.LoadCatalog(TemplateDirs(s, list.Address), list.Settings.Language)
	if err != nil {
		slog.Warn("message catalogue broken; notice reason in English", "list", list.Address, "err", err)
		out["Reason"] = render(nil)
		return out
	}
	out["Reason"] = render(cat)
	return out
}

// reasonText returns the words for a scenario reason key.
func reasonText(key string) rules.Reason {
	if t, ok := reasonTexts[key]; ok {
		return t
	}
	if key == "" {
		return reasonTexts["no rule matched"]
	}
	return rules.Verbatim(key)
}
