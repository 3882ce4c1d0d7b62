package lists

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	bolt "go.etcd.io/bbolt"
)

// ErrNoKeyRequest is returned for a key request ID that is not (or no
// longer) pending.
var ErrNoKeyRequest = errors.New("no such key request")

// Bounds on key request records.
const (
	maxKeyRequestKey = 64 << 10
	maxKeyRequestLen = 1024
)

// KeyRequest is a key or certificate whose holder proved it (the challenge
// encrypted to it came back signed with it) and whose bind to Address waits
// for an owner's approval, or for a member's vouching (the key_enrolment
// setting). Nothing is bound until it is approved; refusing or expiry drops
// it.
type KeyRequest struct {
	// ID names the request in commands (key approve ID); PutKeyRequest
	// assigns a random one.
	ID string `json:"id"`
	// List is the list's posting address the request was made on.
	List string `json:"list"`
	// Address is the address the key would be bound to.
	Address string `json:"address"`
	// Key is the armored OpenPGP public key or the PEM certificate.
	Key string `json:"key"`
	// Fingerprint is the key's OpenPGP fingerprint or the certificate's
	// SHA-256, upper-case hex.
	Fingerprint string `json:"fingerprint"`
	// Mode is the enrolment mode that held it: owner or vouched.
	Mode string `json:"mode"`
	// Via says how it was asked for ("key set", "subscribe"), in English.
	Via string `json:"via,omitempty"`
	// ViaFormat is Via as the JSON of a rules.Reason (a catalogue format
	// and its arguments), so that the approval's notice says it in the
	// list's language; empty in requests made before it.
	ViaFormat json.RawMessage `json:"via_format,omitempty"`
	// Requested is when the proof came back.
	Requested time.Time `json:"requested"`
	// Expires is when the request is dropped if nobody decides;
	// PutKeyRequest sets it from the list's held_expire_days when zero.
	Expires time.Time `json:"expires"`
}

// PutKeyRequest stores a new key request (the list must exist), with a
// fresh random ID. A pending request of the same address and fingerprint
// on the same list is replaced, so asking again does not pile up requests,
// and expired requests of every list are deleted.
func (tx *Tx) PutKeyRequest(r *KeyRequest) error {
	l, err := tx.List(r.List)
	if err != nil {
		return fmt.Errorf("key request: %w", err)
	}
	r.List = l.Address
	addr, err := CanonicalAddress(r.Address)
	if err != nil {
		return fmt.Errorf("key request: %w", err)
	}
	r.Address = addr
	r.Fingerprint = strings.ToUpper(r.Fingerprint)
	if r.Key == "" || len(r.Key) > maxKeyRequestKey {
		return fmt.Errorf("key request for %s: key missing or longer than %d bytes", addr, maxKeyRequestKey)
	}
	for _, s := range []string{r.Fingerprint, r.Mode, r.Via} {
		if len(s) > maxKeyRequestLen || strings.ContainsFunc(s, unicode.IsControl) {
			return fmt.Errorf("key request for %s: bad field %q", addr, s)
		}
	}
	if len(r.ViaFormat) > maxKeyRequestLen || (len(r.ViaFormat) > 0 && !json.Valid(r.ViaFormat)) {
		return fmt.Errorf("key request for %s: via format longer than %d bytes or not JSON", addr, maxKeyRequestLen)
	}
	b, err := tx.createBucket(bucketKeyRequests)
	if err != nil {
		return err
	}
	// Expired requests go here (no sweep needed), and so does an earlier
	// request for the same key.
	old, err := tx.keyRequestsWhere(func(o *KeyRequest) bool {
		return !tx.now.Before(o.Expires) || o.List == r.List && o.Address == r.Address && o.Fingerprint == r.Fingerprint
	})
	if err != nil {
		return err
	}
	for _, o := range old {
		if err := b.Delete([]byte(o.ID)); err != nil {
			return fmt.Errorf("replace key request %s: %w", o.ID, err)
		}
	}
	r.ID = ""
	for r.ID == "" {
		if id := newID(6); b.Get([]byte(id)) == nil {
			r.ID = id
		}
	}
	r.Requested = tx.now.UTC()
	if r.Expires.IsZero() {
		r.Expires = r.Requested.Add(time.Duration(l.Settings.HeldExpireDays) * 24 * time.Hour)
	}
	if err := putJSON(b, []byte(r.ID), r); err != nil {
		return fmt.Errorf("key request %s: %w", r.ID, err)
	}
	return nil
}

// KeyRequest returns the pending key request with this ID of the list
// (ErrNoKeyRequest if none, or if it expired).
func (tx *Tx) KeyRequest(list, id string) (*KeyRequest, error) {
	a, err := CanonicalAddress(list)
	if err != nil {
		return nil, err
	}
	id = strings.ToLower(strings.TrimSpace(id))
	b := tx.btx.Bucket(bucketKeyRequests)
	var data []byte
	if b != nil && checkID(id) == nil {
		data = b.Get([]byte(id))
	}
	if data == nil {
		return nil, fmt.Errorf("key request %s: %w", id, ErrNoKeyRequest)
	}
	r := new(KeyRequest)
	if err := json.Unmarshal(data, r); err != nil {
		return nil, fmt.Errorf("decode key request %s: %w", id, err)
	}
	if r.List != a || !tx.now.Before(r.Expires) {
		return nil, fmt.Errorf("key request %s: %w", id, ErrNoKeyRequest)
	}
	return r, nil
}

// DeleteKeyRequest removes a decided key request (ErrNoKeyRequest if it is
// not there, e.g. another owner decided first).
func (tx *Tx) DeleteKeyRequest(id string) error {
	b, err := tx.createBucket(bucketKeyRequests)
	if err != nil {
		return err
	}
	id = strings.ToLower(strings.TrimSpace(id))
	if b.Get([]byte(id)) == nil {
		return fmt.Errorf("key request %s: %w", id, ErrNoKeyRequest)
	}
	return b.Delete([]byte(id))
}

// KeyRequestsFor returns the list's pending, unexpired key requests, oldest
// first; an empty list name returns every list's.
func (tx *Tx) KeyRequestsFor(list string) ([]*KeyRequest, error) {
	a := ""
	if list != "" {
		var err error
		if a, err = CanonicalAddress(list); err != nil {
			return nil, err
		}
	}
	return tx.keyRequestsWhere(func(r *KeyRequest) bool {
		return (a == "" || r.List == a) && tx.now.Before(r.Expires)
	})
}

// keyRequestsWhere returns the stored key requests that satisfy keep,
// oldest first.
func (tx *Tx) keyRequestsWhere(keep func(*KeyRequest) bool) ([]*KeyRequest, error) {
	b := tx.btx.Bucket(bucketKeyRequests)
	if b == nil {
		return nil, nil
	}
	var out []*KeyRequest
	err := b.ForEach(func(k, v []byte) error {
		r := new(KeyRequest)
		if err := json.Unmarshal(v, r); err != nil {
			return fmt.Errorf("decode key request %s: %w", k, err)
		}
		if keep(r) {
			out = append(out, r)
		}
		return nil
	})
	slices.SortFunc(out, func(a, b *KeyRequest) int {
		if c := a.Requested.Compare(b.Requested); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, err
}

// createBucket returns a top-level bucket, creating it in a database made
// before it existed (read-write transactions only).
func (tx *Tx) createBucket(name []byte) (*bolt.Bucket, error) {
	if b := tx.btx.Bucket(name); b != nil {
		return b, nil
	}
	if !tx.btx.Writable() {
		return nil, fmt.Errorf("database not initialised: no bucket %s", name)
	}
	b, err := tx.btx.CreateBucket(name)
	if err != nil {
		return nil, fmt.Errorf("create bucket %s: %w", name, err)
	}
	return b, nil
}
