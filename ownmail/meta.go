// Package ownmail is where Cloister's own mail learns what it carries, and
// the gate it passes on its way out (security invariant 2).
//
// Own mail is everything the list writes itself: held-post notices,
// rejection and other notices, command replies (archive get among them),
// forwards to the owners, resend copies and reports, digests. Every such
// queue entry takes its metadata from Meta or Reply, which record, from the
// writer's own knowledge and never from the message bytes, what the
// message carries (queue.Meta.Carries) and which entry it derives from
// (queue.Meta.Lineage). The outgoing runner's distributor then encrypts a
// message that carries content of an encrypted post to each recipient's
// bound key, or sends a recipient without one a content-free notice; and
// Gate refuses to hand the MTA any copy of it that is not an encryption to
// exactly its recipients.
package ownmail

import (
	"time"

	"cloister/internal/listaddr"
	"cloister/queue"
)

// Meta returns the metadata of a message of the given kind that the list
// writes to rcpts, derived from the entry from (nil: none). content tells
// that the message holds content of from (the post attached, forwarded,
// copied, or its subject or recipients named): it then carries the
// plaintext of an encrypted post when from does, and is sealed at rest and
// distributed encrypted only. A message written from a template alone
// (content false) carries nothing of from and may leave in clear.
func Meta(list, kind string, from *queue.Meta, content bool, now time.Time, rcpts ...string) *queue.Meta {
	m := &queue.Meta{
		List:       list,
		Subaddress: queue.SubPost,
		Kind:       kind,
		Recipients: rcpts,
		EnvFrom:    listaddr.Address(list, queue.SubBounces),
		Received:   now.UTC(),
		Encryption: "none",
		Carries:    queue.CarriesClear,
	}
	if from == nil {
		return m
	}
	m.Lineage = Lineage(from)
	if content && from.Confidential() {
		m.Carries = queue.CarriesPlaintext
		if from.ArrivedEncrypted() {
			m.Encryption = from.Encryption
		}
	}
	return m
}

// Reply returns the metadata of a message the email commands wrote to to in
// answer to the command mail from: signed, and encrypted when sealed, by its
// writer, so that outgoing sends it as it is; confidential tells that it
// holds content of an encrypted mail (the results of an encrypted command
// mail, an archived encrypted post). A confidential message its writer did
// not encrypt carries the plaintext: outgoing's distributor then encrypts it
// to its recipient or sends a notice instead.
func Reply(list string, from *queue.Meta, kind, to string, sealed, confidential bool, now time.Time) *queue.Meta {
	m := Meta(list, kind, from, false, now, to)
	switch {
	case confidential && sealed:
		m.Carries = queue.CarriesSealed
	case confidential:
		m.Carries = queue.CarriesPlaintext
	}
	if confidential {
		if m.Lineage == nil {
			m.Lineage = &queue.Lineage{}
		}
		m.Lineage.Encrypted = true
	}
	m.WriterSigned = m.Carries != queue.CarriesPlaintext
	return m
}

// Lineage returns the lineage of an entry derived from m: m's own, or m
// itself when it has none.
func Lineage(m *queue.Meta) *queue.Lineage {
	if m.Lineage != nil {
		l := *m.Lineage
		l.Encrypted = l.Encrypted || m.Confidential()
		return &l
	}
	return &queue.Lineage{ID: m.ID, Encrypted: m.ArrivedEncrypted() || m.Confidential()}
}
