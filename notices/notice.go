// Package notices is the mail Cloister writes itself about posts and
// commands: rejection, hold, confirmation, expiry and refusal notices,
// copies of held posts to moderators, and the one renderer of Cloister's own
// mail (Header, Entity) that the email commands' replies use too. It renders
// the list's templates in the list's language (package mailtext), limits
// refusal notices per sender (AllowRefusal), and says which mail must get no
// answer at all (Automatic, RFC 3834). What a notice carries, and so how it
// leaves, is recorded by package ownmail (MetaFrom).
package notices

import (
	"time"

	"cloister/internal/listaddr"
	"cloister/ownmail"
	"cloister/queue"
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
	h := Header{From: n.From, To: n.To, ReplyTo: n.ReplyTo, Subject: n.Subject, InReplyTo: n.InReplyTo, List: n.List}
	var parts []Part
	if n.Attach != nil {
		parts = []Part{{Type: "message/rfc822", Data: n.Attach, Raw: true}}
	}
	out := append(h.Bytes(now), "MIME-Version: 1.0\n"...)
	return append(out, Entity(n.Body, parts)...)
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

// MetaFrom returns the metadata of the notice as an outgoing entry derived
// from the entry from; content tells that the notice holds content of it
// (ownmail.Meta).
func (n *Notice) MetaFrom(kind string, from *queue.Meta, content bool, rcpts ...string) *queue.Meta {
	return ownmail.Meta(n.List, kind, from, content, time.Now(), rcpts...)
}
