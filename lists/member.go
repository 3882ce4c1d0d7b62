package lists

import (
	"encoding/json"
	"errors"
	"fmt"
	bolt "go.etcd.io/bbolt"
	"slices"
	"strings"
	"time"
	"unicode"
)

// Errors about members.
var (
	ErrNoMember     = errors.New("no such member")
	ErrMemberExists = errors.New("already a member")
)

// Role is what a person is on a list; a member may hold several.
type Role string

// The roles. A moderator is Sympa's "editor": it decides on held posts.
const (
	RoleOwner     Role = "owner"
	RoleModerator Role = "moderator"
	RoleMember    Role = "member"
)

// Delivery says whether a subscriber receives posts.
type Delivery string

// Delivery modes: every post, none, or the posts gathered in digests.
const (
	DeliveryEnabled  Delivery = "enabled"
	DeliveryDisabled Delivery = "disabled"
	DeliveryDigest   Delivery = "digest"
)

const maxNameLen = 256

// Member is one address on a list's roster.
type Member struct {
	// Address as given (display form, e.g. Ann.Smith@Example.org); the roster
	// is keyed by its lower-cased form.
	Address string `json:"address"`
	// Name is the person's display name (optional).
	Name string `json:"name,omitempty"`
	// Delivery is enabled, disabled or digest (default enabled).
	Delivery Delivery `json:"delivery"`
	// Roles held on the list, sorted, no duplicates (default: member).
	Roles []Role `json:"roles"`
	// Subscribed is when the address was added.
	Subscribed time.Time `json:"subscribed"`
	// Bounces is the member's bounce record (nil before the first bounce).
	Bounces *Bounces `json:"bounces,omitempty"`
}

// Key returns the lower-cased address the roster is keyed by.
func (m *Member) Key() string { return strings.ToLower(strings.TrimSpace(m.Address)) }

// Has reports whether the member holds role r.
func (m *Member) Has(r Role) bool { return slices.Contains(m.Roles, r) }

// AddRole gives the member role r (no-op if held).
func (m *Member) AddRole(r Role) {
	if !m.Has(r) {
		m.Roles = append(m.Roles, r)
		slices.Sort(m.Roles)
	}
}

// RemoveRole takes role r from the member.
func (m *Member) RemoveRole(r Role) {
	m.Roles = slices.DeleteFunc(m.Roles, func(x Role) bool { return x == r })
}

// IsSubscriber reports whether the member receives posts as a subscriber
// (holds the member role, whatever its delivery mode).
func (m *Member) IsSubscriber() bool { return m.Has(RoleMember) }

// IsOwner reports whether the member is an owner of the list.
func (m *Member) IsOwner() bool { return m.Has(RoleOwner) }

// IsModerator reports whether the member moderates the list (Sympa's editor).
func (m *Member) IsModerator() bool { return m.Has(RoleModerator) }

// Receives reports whether posts are delivered to this member one by one.
func (m *Member) Receives() bool { return m.IsSubscriber() && m.Delivery == DeliveryEnabled }

// ReceivesDigest reports whether this member gets the list's digests.
func (m *Member) ReceivesDigest() bool { return m.IsSubscriber() && m.Delivery == DeliveryDigest }

// CheckName reports whether a member's display name may be stored: at
// most maxNameLen bytes, no control characters (a line break in a name
// would end up in the header fields of the mails to the member).
func CheckName(name string) error {
	if len(name) > maxNameLen {
		return invalidf("name longer than %d bytes", maxNameLen)
	}
	for _, r := range name {
		if unicode.IsControl(r) {
			return invalidf("control character %q in name", r)
		}
	}
	return nil
}

// normalize fills defaults and checks the member before it is stored.
func (m *Member) normalize(now time.Time) error {
	m.Address = strings.TrimSpace(m.Address)
	if err := checkAddress(m.Address); err != nil {
		return err
	}
	if err := CheckName(m.Name); err != nil {
		return fmt.Errorf("member %s: %w", m.Address, err)
	}
	switch m.Delivery {
	case "":
		m.Delivery = DeliveryEnabled
	case DeliveryEnabled, DeliveryDisabled, DeliveryDigest:
	default:
		return invalidf("member %s: delivery %q (allowed: enabled|disabled|digest)", m.Address, m.Delivery)
	}
	if len(m.Roles) == 0 {
		m.Roles = []Role{RoleMember}
	}
	for _, r := range m.Roles {
		switch r {
		case RoleOwner, RoleModerator, RoleMember:
		default:
			return invalidf("member %s: role %q (allowed: owner|moderator|member)", m.Address, r)
		}
	}
	slices.Sort(m.Roles)
	m.Roles = slices.Compact(m.Roles)
	if m.Subscribed.IsZero() {
		m.Subscribed = now.UTC()
	}
	return nil
}

// roster returns the member bucket of a list (ErrNoList if none).
func (tx *Tx) roster(list string) (*bolt.Bucket, string, error) {
	a, err := CanonicalAddress(list)
	if err != nil {
		return nil, "", err
	}
	members, err := tx.bucket(bucketMembers)
	if err != nil {
		return nil, "", err
	}
	b := members.Bucket([]byte(a))
	if b == nil {
		return nil, a, fmt.Errorf("list %s: %w", a, ErrNoList)
	}
	return b, a, nil
}

// AddMember adds m to a list's roster (ErrMemberExists if the address is on
// it, ErrNoList if the list does not exist). Empty fields get defaults:
// delivery enabled, role member, subscribed now.
func (tx *Tx) AddMember(list string, m *Member) error {
	b, a, err := tx.roster(list)
	if err != nil {
		return fmt.Errorf("add member: %w", err)
	}
	if err := m.normalize(tx.now); err != nil {
		return fmt.Errorf("add member to %s: %w", a, err)
	}
	if b.Get([]byte(m.Key())) != nil {
		return fmt.Errorf("add %s to %s: %w", m.Address, a, ErrMemberExists)
	}
	if err := putJSON(b, []byte(m.Key()), m); err != nil {
		return fmt.Errorf("add %s to %s: %w", m.Address, a, err)
	}
	return nil
}

// PutMember adds or replaces m on a list's roster (ErrNoList if the list
// does not exist).
func (tx *Tx) PutMember(list string, m *Member) error {
	b, a, err := tx.roster(list)
	if err != nil {
		return fmt.Errorf("put member: %w", err)
	}
	if err := m.normalize(tx.now); err != nil {
		return fmt.Errorf("put member on %s: %w", a, err)
	}
	if err := putJSON(b, []byte(m.Key()), m); err != nil {
		return fmt.Errorf("put %s on %s: %w", m.Address, a, err)
	}
	return nil
}

// RemoveMember takes an address off a list's roster (ErrNoMember if absent).
func (tx *Tx) RemoveMember(list, address string) error {
	b, a, err := tx.roster(list)
	if err != nil {
		return fmt.Errorf("remove member: %w", err)
	}
	key := strings.ToLower(strings.TrimSpace(address))
	if b.Get([]byte(key)) == nil {
		return fmt.Errorf("remove %s from %s: %w", address, a, ErrNoMember)
	}
	if err := b.Delete([]byte(key)); err != nil {
		return fmt.Errorf("remove %s from %s: %w", address, a, err)
	}
	return nil
}

// Member returns the roster entry for address, compared without case
// (ErrNoMember if absent, ErrNoList if the list does not exist).
func (tx *Tx) Member(list, address string) (*Member, error) {
	b, a, err := tx.roster(list)
	if err != nil {
		return nil, err
	}
	key := strings.ToLower(strings.TrimSpace(address))
	data := b.Get([]byte(key))
	if data == nil {
		return nil, fmt.Errorf("%s on %s: %w", address, a, ErrNoMember)
	}
	m := new(Member)
	if err := json.Unmarshal(data, m); err != nil {
		return nil, fmt.Errorf("decode member %s of %s: %w", key, a, err)
	}
	return m, nil
}

// ForEachMember calls fn for every roster entry of a list in address order,
// decoding one at a time (for large lists). An error from fn stops the walk
// and is returned as is.
func (tx *Tx) ForEachMember(list string, fn func(*Member) error) error {
	b, a, err := tx.roster(list)
	if err != nil {
		return err
	}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		m := new(Member)
		if err := json.Unmarshal(v, m); err != nil {
			return fmt.Errorf("decode member %s of %s: %w", k, a, err)
		}
		if err := fn(m); err != nil {
			return err
		}
	}
	return nil
}

// Members returns a list's whole roster in address order.
func (tx *Tx) Members(list string) ([]*Member, error) {
	var out []*Member
	err := tx.ForEachMember(list, func(m *Member) error {
		out = append(out, m)
		return nil
	})
	return out, err
}

// CountMembers returns the number of roster entries of a list.
func (tx *Tx) CountMembers(list string) (int, error) {
	b, _, err := tx.roster(list)
	if err != nil {
		return 0, err
	}
	return b.Stats().KeyN, nil
}

// hasRole is the roster check behind IsSubscriber, IsOwner and IsModerator:
// an address not on the roster holds no role; a missing list is an error.
func (tx *Tx) hasRole(list, address string, r Role) (bool, error) {
	m, err := tx.Member(list, address)
	if errors.Is(err, ErrNoMember) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return m.Has(r), nil
}

// IsSubscriber reports whether address is a subscriber (role member) of list.
func (tx *Tx) IsSubscriber(list, address string) (bool, error) {
	return tx.hasRole(list, address, RoleMember)
}

// IsOwner reports whether address is an owner of list.
func (tx *Tx) IsOwner(list, address string) (bool, error) {
	return tx.hasRole(list, address, RoleOwner)
}

// IsModerator reports whether address is a moderator (Sympa's editor) of list.
func (tx *Tx) IsModerator(list, address string) (bool, error) {
	return tx.hasRole(list, address, RoleModerator)
}

// ListsOf returns the addresses of the lists on which address holds any
// role, sorted (for the which command).
func (tx *Tx) ListsOf(address string) ([]string, error) {
	key := []byte(strings.ToLower(strings.TrimSpace(address)))
	members, err := tx.bucket(bucketMembers)
	if err != nil {
		return nil, err
	}
	var out []string
	err = members.ForEachBucket(func(list []byte) error {
		if members.Bucket(list).Get(key) != nil {
			out = append(out, string(list))
		}
		return nil
	})
	return out, err
}
