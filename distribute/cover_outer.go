package distribute

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"

	"cloister/handlers"
	"cloister/internal/listaddr"
	"cloister/mailmsg"
)

// coverOuter returns the outer header of an encrypted copy on a list with
// cover_traffic: the same fields, in the same order, for every copy of the
// list, real post or dummy, so that the outer header does not tell an MTA
// which copies are dummies (Schleuder's lists send every post from the list
// address in the same way). From and To are the list address, the Subject
// is handlers.ObscuredSubject, the Date is the time of distribution in UTC
// (not the author's, which would show the author's time zone), the
// Message-ID is derived from the post's own (one for all the copies of a
// post, at the list's domain, of the shape of a dummy's), and the list's
// own fields (List-*, Precedence, X-Loop) are those of the post, which the
// pipeline wrote as it writes them on a dummy. Everything else of the post's
// header, the author's From among it, travels only inside the encryption
// (handlers.ProtectHeadersAs).
func coverOuter(list string, post *mailmsg.Message, now time.Time) *mailmsg.Message {
	h := &mailmsg.Message{NL: post.NL}
	h.Add("From", list)
	h.Add("To", list)
	h.Add("Subject", handlers.ObscuredSubject)
	h.Add("Date", now.UTC().Format(time.RFC1123Z))
	h.Add("Message-ID", coverMessageID(list, post.Get("Message-ID")))
	for _, f := range post.Fields {
		if strings.HasPrefix(strings.ToLower(f.Name), "list-") {
			h.Fields = append(h.Fields, f)
		}
	}
	h.Add("Precedence", "list")
	h.Add("X-Loop", list)
	return h
}

// coverMessageID is the outer Message-ID of the copies of the post with
// Message-ID id: 24 hex digits at the list's domain, as a dummy's.
func coverMessageID(list, id string) string {
	sum := sha256.Sum256([]byte("cover message-id\x00" + strings.ToLower(list) + "\x00" + id))
	return "<" + hex.EncodeToString(sum[:12]) + "@" + listaddr.Domain(list) + ">"
}
