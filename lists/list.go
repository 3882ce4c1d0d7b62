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

// Errors about lists.
var (
	ErrNoList     = errors.New("no such list")
	ErrListExists = errors.New("list already exists")
	// ErrDomain is returned by CreateList for a list in a mail domain the
	// site does not serve (Store.Domains).
	ErrDomain = errors.New("the site does not serve this domain")
)

// maxDescriptionLen bounds a list's description.
const maxDescriptionLen = 1024

// List is one mailing list.
type List struct {
	// Address is the posting address, lower-cased (team@lists.example.test).
	Address string `json:"address"`
	// Description is one line shown by info and the list index.
	Description string `json:"description"`
	// Created is when the list was created.
	Created time.Time `json:"created"`
	// Settings are the list's settings (DESIGN.md section 6).
	Settings Settings `json:"settings"`
}

// NewList returns a list with the default settings and a subject prefix of
// "[LOCAL] " taken from the address; created is its creation time.
func NewList(address string, created time.Time) (*List, error) {
	a, err := CanonicalListAddress(address)
	if err != nil {
		return nil, err
	}
	l := &List{Address: a, Created: created.UTC(), Settings: DefaultSettings()}
	l.Settings.SubjectPrefix = "[" + localPart(a) + "] "
	if len(l.Settings.SubjectPrefix) > 64 {
		l.Settings.SubjectPrefix = ""
	}
	return l, nil
}

// LocalPart returns the list address before the '@' (the list's name).
func (l *List) LocalPart() string { return localPart(l.Address) }

// validate checks the list before it is stored and lower-cases its address.
func (l *List) validate() error {
	a, err := CanonicalListAddress(l.Address)
	if err != nil {
		return err
	}
	l.Address = a
	if len(l.Description) > maxDescriptionLen {
		return invalidf("list %s: description longer than %d bytes", a, maxDescriptionLen)
	}
	for _, r := range l.Description {
		if unicode.IsControl(r) {
			return invalidf("list %s: control character %q in description", a, r)
		}
	}
	if err := l.Settings.Validate(); err != nil {
		return fmt.Errorf("list %s: %w", a, err)
	}
	return nil
}

// decodeList reads a stored list; settings missing from older records keep
// their defaults.
func decodeList(data []byte) (*List, error) {
	l := &List{Settings: DefaultSettings()}
	if err := json.Unmarshal(data, l); err != nil {
		return nil, fmt.Errorf("decode list: %w", err)
	}
	return l, nil
}

func (tx *Tx) bucket(name []byte) (*bolt.Bucket, error) {
	b := tx.btx.Bucket(name)
	if b == nil {
		return nil, fmt.Errorf("database not initialised: no bucket %s", name)
	}
	return b, nil
}

// CreateList stores a new list (ErrListExists if its address is taken) with
// an empty roster. A zero Created is set to the transaction's time.
func (tx *Tx) CreateList(l *List) error {
	if err := l.validate(); err != nil {
		return fmt.Errorf("create list: %w", err)
	}
	if d := l.Address[strings.LastIndexByte(l.Address, '@')+1:]; len(tx.domains) > 0 && !slices.Contains(tx.domains, d) {
		return fmt.Errorf("create list %s: %w: %s is not one of %s (add it to domains in cloister.toml, and route it to Cloister in the MTA)",
			l.Address, ErrDomain, d, strings.Join(tx.domains, ", "))
	}
	lists, err := tx.bucket(bucketLists)
	if err != nil {
		return err
	}
	if lists.Get([]byte(l.Address)) != nil {
		return fmt.Errorf("create list %s: %w", l.Address, ErrListExists)
	}
	if err := subaddressCollision(l.Address, func(a string) bool { return lists.Get([]byte(a)) != nil }); err != nil {
		return fmt.Errorf("create list %s: %w", l.Address, err)
	}
	if l.Created.IsZero() {
		l.Created = tx.now.UTC()
	}
	members, err := tx.bucket(bucketMembers)
	if err != nil {
		return err
	}
	if _, err := members.CreateBucketIfNotExists([]byte(l.Address)); err != nil {
		return fmt.Errorf("create list %s: %w", l.Address, err)
	}
	if err := putJSON(lists, []byte(l.Address), l); err != nil {
		return fmt.Errorf("create list %s: %w", l.Address, err)
	}
	tx.listsChanged = true
	return nil
}

// List returns the list at address (ErrNoList if there is none).
func (tx *Tx) List(address string) (*List, error) {
	a, err := CanonicalAddress(address)
	if err != nil {
		return nil, err
	}
	lists, err := tx.bucket(bucketLists)
	if err != nil {
		return nil, err
	}
	data := lists.Get([]byte(a))
	if data == nil {
		return nil, fmt.Errorf("list %s: %w", a, ErrNoList)
	}
	l, err := decodeList(data)
	if err != nil {
		return nil, fmt.Errorf("list %s: %w", a, err)
	}
	return l, nil
}

// PutList replaces an existing list's description and settings
// (ErrNoList if it does not exist).
func (tx *Tx) PutList(l *List) error {
	if err := l.validate(); err != nil {
		return fmt.Errorf("put list: %w", err)
	}
	lists, err := tx.bucket(bucketLists)
	if err != nil {
		return err
	}
	if lists.Get([]byte(l.Address)) == nil {
		return fmt.Errorf("put list %s: %w", l.Address, ErrNoList)
	}
	if err := putJSON(lists, []byte(l.Address), l); err != nil {
		return fmt.Errorf("put list %s: %w", l.Address, err)
	}
	return nil
}

// DeleteList removes a list with its members, held-post records and tokens
// (ErrNoList if it does not exist). The files of held posts are the caller's
// to remove: collect them with HeldFor first.
func (tx *Tx) DeleteList(address string) error {
	a, err := CanonicalAddress(address)
	if err != nil {
		return err
	}
	lists, err := tx.bucket(bucketLists)
	if err != nil {
		return err
	}
	if lists.Get([]byte(a)) == nil {
		return fmt.Errorf("delete list %s: %w", a, ErrNoList)
	}
	if err := lists.Delete([]byte(a)); err != nil {
		return fmt.Errorf("delete list %s: %w", a, err)
	}
	members, err := tx.bucket(bucketMembers)
	if err != nil {
		return err
	}
	if members.Bucket([]byte(a)) != nil {
		if err := members.DeleteBucket([]byte(a)); err != nil {
			return fmt.Errorf("delete list %s members: %w", a, err)
		}
	}
	for _, name := range [][]byte{bucketHeld, bucketTokens, bucketKeyRequests} {
		b, err := tx.createBucket(name)
		if err != nil {
			return err
		}
		if err := deleteWhere(b, func(v []byte) bool { return recordList(v) == a }); err != nil {
			return fmt.Errorf("delete list %s %s: %w", a, name, err)
		}
	}
	tx.listsChanged = true
	return nil
}

// Lists returns every list, sorted by address.
func (tx *Tx) Lists() ([]*List, error) {
	lists, err := tx.bucket(bucketLists)
	if err != nil {
		return nil, err
	}
	var out []*List
	err = lists.ForEach(func(k, v []byte) error {
		l, err := decodeList(v)
		if err != nil {
			return fmt.Errorf("list %s: %w", k, err)
		}
		out = append(out, l)
		return nil
	})
	return out, err
}

// ListAddresses returns every list's posting address, sorted.
func (tx *Tx) ListAddresses() ([]string, error) {
	lists, err := tx.bucket(bucketLists)
	if err != nil {
		return nil, err
	}
	var out []string
	err = lists.ForEach(func(k, _ []byte) error {
		out = append(out, string(k))
		return nil
	})
	return out, err
}
