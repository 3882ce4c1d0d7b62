// Package digest gathers the posts of a list for its members who take
// digests (delivery digest) and builds the digest: a MIME digest (RFC 2046
// multipart/digest) or an RFC 1153 plain text digest, in the list's
// digest_format. The posts wait under STATE/digest/LIST/, sealed with the
// queue key when they hold plaintext of an encrypted post; the digest
// runner (runners/digest.go) says when a digest is due and hands it on.
package digest

import (
	"bytes"
	"net/mail"
	"path/filepath"
	"time"

	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
	"cloister/queue"
)

// Dir is the folder where the posts of list wait for its next digest.
func Dir(stateDir, list string) string {
	return filepath.Join(stateDir, "digest", list)
}

// Build renders a digest of posts in the list's digest_format, as issue st
// of the list's digests.
func Build(list *lists.List, st State, posts [][]byte, now time.Time) []byte {
	name := list.LocalPart()
	if list.Settings.DigestFormat == "plain" {
		return plainDigest(list, name, st, posts, now)
	}
	return mimeDigest(list, name, st, posts, now)
}

// header is the header of a digest message, up to and with MIME-Version:
// Cloister's own mail, written by notices' renderer as the list's traffic
// (List-Post and List-Unsubscribe, no Auto-Submitted).
func header(list *lists.List, subject string, now time.Time) []byte {
	h := notices.Header{
		From:     listaddr.Address(list.Address, queue.SubRequest),
		To:       list.Address,
		ReplyTo:  list.Address,
		Subject:  subject,
		List:     list.Address,
		ListMail: true,
	}
	return append(h.Bytes(now), "MIME-Version: 1.0\n"...)
}

// topic is one line of a digest's table of contents.
type topic struct{ subject, from string }

func topicOf(post []byte) topic {
	head := post
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i+1]
	}
	m, err := mailmsg.Parse(head)
	if err != nil {
		return topic{"(unreadable)", ""}
	}
	t := topic{subject: mailmsg.Clip(mailmsg.CleanValue(mailmsg.DecodeHeader(m.Get("Subject"))), 120)}
	if t.subject == "" {
		t.subject = "(no subject)"
	}
	if a, err := mail.ParseAddress(mailmsg.DecodeHeader(m.Get("From"))); err == nil {
		t.from = a.Name
		if t.from == "" {
			t.from = a.Address
		}
	}
	t.from = mailmsg.Clip(mailmsg.CleanValue(t.from), 60)
	return t
}

// lf turns CRLF line endings into LF and ends the text with one.
func lf(b []byte) []byte {
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		b = append(b, '\n')
	}
	return b
}
