package commands

import (
	"time"

	"cloister/notices"
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
type attachment = notices.Part

// outer returns the header fields that stay outside a signature or an
// encryption, without MIME-Version and the Content-* fields (rendered by
// package notices, as every mail Cloister writes itself).
func (m *message) outer(now time.Time) []byte {
	return notices.Header{From: m.From, To: m.To, ReplyTo: m.ReplyTo, Subject: m.Subject, InReplyTo: m.InReplyTo, List: m.List}.Bytes(now)
}

// inner returns the MIME entity of the content: text/plain, or
// multipart/mixed with the attachments (base64).
func (m *message) inner() []byte { return notices.Entity(m.Body, m.Attach) }
