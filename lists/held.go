package lists

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// ErrNoHeld is returned for a held-post ID that is not (or no longer) held.
var ErrNoHeld = errors.New("no such held post")

// Bounds on held-post records (the message itself lives in a file).
const (
	maxHeldIDLen   = 64
	maxHeldRules   = 64
	maxHeldMetaLen = 64 << 10
	maxReasonLen   = 1024
)

// Held is a post waiting for a moderator's decision. The message bytes stay
// in a queue file (sealed when they hold plaintext of an encrypted post); the
// record keeps where that file is and the metadata needed to decide and to
// notify.
type Held struct {
	// ID names the held post in commands (approve ID); PutHeld assigns a
	// random one when empty.
	ID string `json:"id"`
	// List is the list's posting address.
	List string `json:"list"`
	// File is the queue entry holding the message, relative to the state
	// directory.
	File string `json:"file"`
	// Meta is the queue entry's JSON metadata line at the time it was held.
	Meta json.RawMessage `json:"meta,omitempty"`
	// Sender is the envelope or From address, for listings and notices.
	Sender string `json:"sender,omitempty"`
	// Subject is the post's subject, for listings (empty for encrypted posts
	// whose subject is protected).
	Subject string `json:"subject,omitempty"`
	// Reason says in words why the post was held (in English, for
	// listings and logs).
	Reason string `json:"reason"`
	// ReasonFormat is the same reason as the JSON of rules.Reasons (each a
	// catalogue format and its arguments), so that the notices sent later
	// render it in the list's language; empty in records held before it.
	ReasonFormat json.RawMessage `json:"reason_format,omitempty"`
	// Rules are the names of the rules that fired.
	Rules []string `json:"rules,omitempty"`
	// Received is when the post was held.
	Received time.Time `json:"received"`
	// Expires is when the post is dropped with a notice if nobody decides;
	// PutHeld sets it from the list's held_expire_days when zero.
	Expires time.Time `json:"expires"`
}

// newID returns n random bytes in lower-case base32 without padding.
func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails (crypto/rand since Go 1.24)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b))
}

func checkID(id string) error {
	if id == "" || len(id) > maxHeldIDLen {
		return fmt.Errorf("held ID must be 1 to %d characters", maxHeldIDLen)
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
			return fmt.Errorf("held ID %q: character %q not allowed", id, r)
		}
	}
	return nil
}

// PutHeld stores or replaces a held-post record. The list must exist. An
// empty ID gets a random one (10 characters, 48 bits); a zero Received is the
// transaction's time; a zero Expires is Received plus the list's
// held_expire_days.
func (tx *Tx) PutHeld(h *Held) error {
	l, err := tx.List(h.List)
	if err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	h.List = l.Address
	b, err := tx.bucket(bucketHeld)
	if err != nil {
		return err
	}
	for h.ID == "" {
		if id := newID(6); b.Get([]byte(id)) == nil {
			h.ID = id
		}
	}
	h.ID = strings.ToLower(h.ID)
	if err := checkID(h.ID); err != nil {
		return fmt.Errorf("hold: %w", err)
	}
	if h.File == "" {
		return fmt.Errorf("hold %s: no queue file", h.ID)
	}
	if len(h.Meta) > maxHeldMetaLen {
		return fmt.Errorf("hold %s: metadata longer than %d bytes", h.ID, maxHeldMetaLen)
	}
	if len(h.Meta) > 0 && !json.Valid(h.Meta) {
		return fmt.Errorf("hold %s: metadata is not JSON", h.ID)
	}
	if len(h.ReasonFormat) > maxHeldMetaLen || (len(h.ReasonFormat) > 0 && !json.Valid(h.ReasonFormat)) {
		return fmt.Errorf("hold %s: reason format longer than %d bytes or not JSON", h.ID, maxHeldMetaLen)
	}
	if len(h.Rules) > maxHeldRules {
		return fmt.Errorf("hold %s: more than %d rules", h.ID, maxHeldRules)
	}
	for _, s := range []string{h.Reason, h.Subject, h.Sender, h.File} {
		if len(s) > maxReasonLen {
			return fmt.Errorf("hold %s: field longer than %d bytes", h.ID, maxReasonLen)
		}
		if strings.ContainsFunc(s, unicode.IsControl) {
			return fmt.Errorf("hold %s: control character in %q", h.ID, s)
		}
	}
	if h.Received.IsZero() {
		h.Received = tx.now.UTC()
	}
	if h.Expires.IsZero() {
		h.Expires = h.Received.Add(time.Duration(l.Settings.HeldExpireDays) * 24 * time.Hour)
	}
	if err := putJSON(b, []byte(h.ID), h); err != nil {
		return fmt.Errorf("hold %s: %w", h.ID, err)
	}
	return nil
}

// Held returns the held post with this ID (ErrNoHeld if none).
func (tx *Tx) Held(id string) (*Held, error) {
	b, err := tx.bucket(bucketHeld)
	if err != nil {
		return nil, err
	}
	id = strings.ToLower(strings.TrimSpace(id))
	data := b.Get([]byte(id))
	if data == nil {
		return nil, fmt.Errorf("held %s: %w", id, ErrNoHeld)
	}
	h := new(Held)
	if err := json.Unmarshal(data, h); err != nil {
		return nil, fmt.Errorf("decode held %s: %w", id, err)
	}
	return h, nil
}

// DeleteHeld removes a held-post record once it is decided (ErrNoHeld if it
// is not there, e.g. another moderator decided first). The caller removes or
// moves the queue file.
func (tx *Tx) DeleteHeld(id string) error {
	b, err := tx.bucket(bucketHeld)
	if err != nil {
		return err
	}
	id = strings.ToLower(strings.TrimSpace(id))
	if b.Get([]byte(id)) == nil {
		return fmt.Errorf("held %s: %w", id, ErrNoHeld)
	}
	if err := b.Delete([]byte(id)); err != nil {
		return fmt.Errorf("delete held %s: %w", id, err)
	}
	return nil
}

// heldWhere returns the held posts that satisfy keep, oldest first.
func (tx *Tx) heldWhere(keep func(*Held) bool) ([]*Held, error) {
	b, err := tx.bucket(bucketHeld)
	if err != nil {
		return nil, err
	}
	var out []*Held
	err = b.ForEach(func(k, v []byte) error {
		h := new(Held)
		if err := json.Unmarshal(v, h); err != nil {
			return fmt.Errorf("decode held %s: %w", k, err)
		}
		if keep(h) {
			out = append(out, h)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *Held) int {
		if c := a.Received.Compare(b.Received); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, err
}

// HeldFor returns a list's held posts, oldest first; an empty list name
// returns every list's.
func (tx *Tx) HeldFor(list string) ([]*Held, error) {
	a := ""
	if list != "" {
		var err error
		if a, err = CanonicalAddress(list); err != nil {
			return nil, err
		}
	}
	return tx.heldWhere(func(h *Held) bool { return a == "" || h.List == a })
}

// ExpiredHeld returns the held posts (of every list) whose Expires is not
// after now, oldest first, for the expiry sweep.
func (tx *Tx) ExpiredHeld(now time.Time) ([]*Held, error) {
	return tx.heldWhere(func(h *Held) bool { return !h.Expires.After(now) })
}
