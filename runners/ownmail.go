package runners

import (
	"time"

	"cloister/commands"
	"cloister/listaddr"
	"cloister/queue"
	"cloister/site"
)

// Cloister's own mail: held-post notices, rejection and other notices,
// command replies, forwards to the owners, resend copies and reports,
// digests. Every such entry is written with metadata from ownMeta, which
// records, from the code's own knowledge and never from the message bytes,
// what the message carries (queue.Meta.Carries) and which entry it derives
// from (queue.Meta.Lineage). The outgoing runner then distributes it the one
// way that fits: a message that carries content of an encrypted post is
// encrypted by the distributor (crypto_out.go) to each recipient's bound key,
// or replaced by a content-free notice for a recipient without one; and the
// egress gate (egress.go) refuses to hand the MTA any copy of it that is not
// an encryption to exactly its recipients (security invariant 2).

// ownMeta returns the metadata of a message of the given kind that the list
// writes to rcpts, derived from the entry from (nil: none). content tells
// that the message holds content of from (the post attached, forwarded,
// copied, or its subject or recipients named): it then carries the
// plaintext of an encrypted post when from does, and is sealed at rest and
// distributed encrypted only. A message written from a template alone
// (content false) carries nothing of from and may leave in clear.
func ownMeta(list, kind string, from *queue.Meta, content bool, now time.Time, rcpts ...string) *queue.Meta {
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
	m.Lineage = lineageOf(from)
	if content && from.Confidential() {
		m.Carries = queue.CarriesPlaintext
		if site.Encrypted(from) {
			m.Encryption = from.Encryption
		}
	}
	return m
}

// lineageOf returns the lineage of an entry derived from m: m's own, or m
// itself when it has none.
func lineageOf(m *queue.Meta) *queue.Lineage {
	if m.Lineage != nil {
		l := *m.Lineage
		l.Encrypted = l.Encrypted || m.Confidential()
		return &l
	}
	return &queue.Lineage{ID: m.ID, Encrypted: site.Encrypted(m) || m.Confidential()}
}

// MetaFrom returns the metadata of the notice as an outgoing entry derived
// from the entry from; content tells that the notice holds content of it
// (see ownMeta).
func (n *Notice) MetaFrom(kind string, from *queue.Meta, content bool, rcpts ...string) *queue.Meta {
	return ownMeta(n.List, kind, from, content, time.Now(), rcpts...)
}

// ownMail returns the metadata of a message the email commands wrote in
// answer to the command mail from: signed (and encrypted when Sealed) by
// its writer, so outgoing sends it as it is, unless it holds content of an
// encrypted mail that its writer did not encrypt, which outgoing's
// distributor then encrypts to the recipient or replaces by a notice.
func ownMail(list string, from *queue.Meta, o commands.Outgoing, now time.Time) *queue.Meta {
	m := ownMeta(list, o.Kind, from, false, now, o.To)
	switch {
	case o.Confidential && o.Sealed:
		m.Carries = queue.CarriesSealed
	case o.Confidential:
		m.Carries = queue.CarriesPlaintext
	}
	if o.Confidential {
		m.Lineage.Encrypted = true
	}
	m.WriterSigned = m.Carries != queue.CarriesPlaintext
	return m
}
