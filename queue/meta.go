package queue

import (
	"time"

	"cloister/internal/listaddr"
)

// Subaddresses of a list, as deliver records them from the recipient
// address: the names of the one definition in listaddr.
const (
	SubPost    = listaddr.SubPost
	SubRequest = listaddr.SubRequest
	SubOwner   = listaddr.SubOwner
	SubBounces = listaddr.SubBounces
	SubConfirm = listaddr.SubConfirm
	SubJoin    = listaddr.SubJoin
	SubLeave   = listaddr.SubLeave
	SubSendkey = listaddr.SubSendkey
)

// Meta is the metadata line of a queue entry. It travels with the message from
// stage to stage; the message bytes themselves are never re-serialised to
// update it (DESIGN.md section 4).
type Meta struct {
	ID         string    `json:"id"`                  // stable across stages: <received-nanos>+<digest>
	List       string    `json:"list"`                // posting address of the list
	Subaddress string    `json:"subaddress"`          // post, request, owner, bounces, confirm, join, leave, sendkey
	Extension  string    `json:"extension,omitempty"` // what followed '+' in the recipient (confirm token, VERP address)
	Sender     string    `json:"sender"`              // envelope sender ("" for the null sender <>)
	Recipient  string    `json:"recipient"`           // original envelope recipient
	Received   time.Time `json:"received"`
	Attempts   int       `json:"attempts"`
	History    []Stage   `json:"history,omitempty"`

	// Set by the incoming runner.
	Encryption      string   `json:"encryption,omitempty"`       // none, pgp-mime, pgp-inline, smime
	Verdict         string   `json:"verdict,omitempty"`          // none, good, bad, unknown-key, expired, revoked, signer-mismatch
	VerdictReason   string   `json:"verdict_reason,omitempty"`   // why the verdict is not good
	SignerFpr       string   `json:"signer_fpr,omitempty"`       // signer fingerprint
	SignerAddresses []string `json:"signer_addresses,omitempty"` // addresses the keyring binds the signer's key to
	Auth            string   `json:"auth,omitempty"`             // smtp, md5, pgp, smime: the method the scenarios see
	From            string   `json:"from,omitempty"`             // the From address of the message

	// The replay identity of a good signature (what was signed and by whom,
	// not its encoding) and when the signer says it signed (zero if unknown),
	// for the site's replay store.
	SignatureID   string    `json:"signature_id,omitempty"`
	SignatureTime time.Time `json:"signature_time,omitzero"`

	// Sealed tells that the message bytes are sealed (AES-256-GCM) because they
	// hold the plaintext of an encrypted post (security invariant 2).
	Sealed *Seal `json:"sealed,omitempty"`

	// Set by the rules runner: which posting-chain rules fired or not (Mailman's rule_hits).
	RuleHits   []string `json:"rule_hits,omitempty"`
	RuleMisses []string `json:"rule_misses,omitempty"`
	Decision   string   `json:"decision,omitempty"` // the scenario decision and reason

	// Set for the outgoing runner: what kind of mail this is and to whom.
	Kind       string    `json:"kind,omitempty"`       // post, notice, reply
	Recipients []string  `json:"recipients,omitempty"` // envelope recipients
	EnvFrom    string    `json:"env_from,omitempty"`   // envelope sender for the hand-off
	FirstTry   time.Time `json:"first_try,omitempty"`  // first delivery attempt, for the give-up age
	NextTry    time.Time `json:"next_try,omitempty"`   // when the retry runner hands the entry back to out
	HeldID     string    `json:"held_id,omitempty"`    // the held-post id while a post waits for a moderator
	Failed     []Failure `json:"failed,omitempty"`     // permanent per-recipient failures

	// Reason is why the entry is in the bad queue.
	Reason string `json:"reason,omitempty"`

	// Kept by the queue for exactly-once hand-overs and attempt counting
	// (queue/commit.go). Entries written before these existed have neither.
	Gen      string `json:"gen,omitempty"`      // fresh random value each time the entry's file is written
	Progress int64  `json:"progress,omitempty"` // lines of the progress journal when attempts were last counted

	// Protection of what the entry holds (security invariant 2). Set only by
	// the code that writes the entry, never read from its bytes: the writer
	// that signs or encrypts a message records it here, and the outgoing
	// runner's egress gate holds every copy to it.
	Carries string   `json:"carries,omitempty"` // Carries* below
	Lineage *Lineage `json:"lineage,omitempty"` // the entry it was derived from
	// WriterSigned tells that the writer of the message (the email commands)
	// already signed or encrypted it with the list's key: outgoing sends it
	// as it is, without signing it again.
	WriterSigned bool `json:"writer_signed,omitempty"`

	// LastError is why the last attempt did not finish the entry: the SMTP
	// replies or connection error of a deferred delivery, or the error of a
	// failed attempt that put the entry back. queue ls and queue show print it.
	LastError string `json:"last_error,omitempty"`
}

// What an entry's message bytes carry (Meta.Carries).
const (
	// CarriesClear: nothing of an encrypted post (a post that arrived in
	// clear, or a notice written from a template). It may leave in clear.
	CarriesClear = "clear"
	// CarriesPlaintext: the plaintext of an encrypted post, or content taken
	// from one (an attached held post, a forward, a resend copy, a digest).
	// Sealed at rest; outgoing encrypts each copy to its recipient's key or
	// sends a content-free notice instead.
	CarriesPlaintext = "plaintext-of-encrypted"
	// CarriesSealed: content of an encrypted post that its writer already
	// encrypted to the recipient's key (a command reply). Outgoing sends it as
	// it is, once the egress gate has checked the encryption.
	CarriesSealed = "sealed-for-recipient"
)

// Lineage names the entry a message was derived from.
type Lineage struct {
	ID        string `json:"id"`        // the original entry's id
	Encrypted bool   `json:"encrypted"` // the original arrived encrypted
}

// ArrivedEncrypted reports whether the entry is (or holds the plaintext of)
// a post that arrived encrypted: its Encryption names a method. It is the one
// place this is asked; entries derived from such a post say so through
// Lineage and Carries instead (see Protection and Confidential).
func (m *Meta) ArrivedEncrypted() bool {
	return m != nil && m.Encryption != "" && m.Encryption != "none"
}

// Protection returns what the entry's bytes carry: Carries, or for entries
// written without it, the plaintext of an encrypted post when the metadata
// says it arrived encrypted or descends from one that did, else clear.
func (m *Meta) Protection() string {
	if m.Carries != "" {
		return m.Carries
	}
	if m.ArrivedEncrypted() || (m.Lineage != nil && m.Lineage.Encrypted) {
		return CarriesPlaintext
	}
	return CarriesClear
}

// Confidential reports whether the entry holds content of an encrypted
// post, in clear or encrypted by its writer: such bytes leave only encrypted
// to their recipient.
func (m *Meta) Confidential() bool { return m.Protection() != CarriesClear }

// Stage records one runner's passage over an entry.
type Stage struct {
	Runner string    `json:"runner"`
	At     time.Time `json:"at"`
	Note   string    `json:"note,omitempty"`
}

// Seal describes how an entry's message bytes are sealed.
type Seal struct {
	Alg   string `json:"alg"`    // "aes-256-gcm"
	KeyID string `json:"key_id"` // identifies the queue key (a hash of it), so a wrong key is named
}

// Failure is a recipient the MTA refused permanently.
type Failure struct {
	Recipient string `json:"recipient"`
	Reply     string `json:"reply"`
}

// AddStage appends a history record.
func (m *Meta) AddStage(runner, note string) {
	m.History = append(m.History, Stage{Runner: runner, At: time.Now().UTC(), Note: note})
}

// Clone returns a deep copy of the metadata.
func (m *Meta) Clone() *Meta {
	c := *m
	c.History = append([]Stage(nil), m.History...)
	c.SignerAddresses = append([]string(nil), m.SignerAddresses...)
	c.RuleHits = append([]string(nil), m.RuleHits...)
	c.RuleMisses = append([]string(nil), m.RuleMisses...)
	c.Recipients = append([]string(nil), m.Recipients...)
	c.Failed = append([]Failure(nil), m.Failed...)
	if m.Sealed != nil {
		s := *m.Sealed
		c.Sealed = &s
	}
	if m.Lineage != nil {
		l := *m.Lineage
		c.Lineage = &l
	}
	return &c
}
