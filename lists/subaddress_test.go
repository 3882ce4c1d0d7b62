package lists

import (
	"errors"
	"strings"
	"testing"

	"cloister/internal/listaddr"
)

// TestEverySubaddressReserved: no list may be named after any subaddress
// of listaddr.Suffixes (the table deliver routes on), in any case.
func TestEverySubaddressReserved(t *testing.T) {
	s, _ := testStore(t)
	for _, sub := range listaddr.Suffixes {
		for _, addr := range []string{"team" + sub.Suffix + "@lists.test", "TEAM" + strings.ToUpper(sub.Suffix) + "@lists.test"} {
			t.Run(addr, func(t *testing.T) {
				if _, err := NewList(addr, s.Now()); !errors.Is(err, ErrBadAddress) || !strings.Contains(err.Error(), sub.Suffix) {
					t.Fatalf("NewList(%s): %v", addr, err)
				}
				err := s.Update(func(tx *Tx) error {
					return tx.CreateList(&List{Address: addr, Settings: DefaultSettings()})
				})
				if !errors.Is(err, ErrBadAddress) {
					t.Fatalf("CreateList(%s): %v", addr, err)
				}
			})
		}
	}
}

// TestSubaddressCollisions: a new list may neither be the subaddress of a
// list nor have a list (one made before its name was reserved) as one of
// its subaddresses.
func TestSubaddressCollisions(t *testing.T) {
	for _, sub := range listaddr.Suffixes {
		t.Run(sub.Sub, func(t *testing.T) {
			s, _ := testStore(t)
			mustUpdate(t, s, func(tx *Tx) error {
				l, err := NewList("team@lists.test", tx.Now())
				if err != nil {
					return err
				}
				if err := tx.CreateList(l); err != nil {
					return err
				}
				// A list named before the name was reserved.
				b, err := tx.bucket(bucketLists)
				if err != nil {
					return err
				}
				old := &List{Address: "ops" + sub.Suffix + "@lists.test", Settings: DefaultSettings()}
				return putJSON(b, []byte(old.Address), old)
			})
			for _, addr := range []string{
				"team" + sub.Suffix + "@lists.test", // a subaddress of team
				"ops@lists.test",                    // ops's subaddress is a list
			} {
				err := s.Update(func(tx *Tx) error {
					err := subaddressCollision(addr, func(a string) bool {
						_, err := tx.List(a)
						return err == nil
					})
					if err == nil {
						t.Errorf("subaddressCollision(%s) found nothing", addr)
					}
					return tx.CreateList(&List{Address: addr, Settings: DefaultSettings()})
				})
				if !errors.Is(err, ErrBadAddress) {
					t.Errorf("CreateList(%s): %v", addr, err)
				}
			}
			// Names that only look alike are free.
			for _, addr := range []string{"teams@lists.test", "team@other.test", strings.TrimPrefix(sub.Suffix, "-") + "-team@lists.test"} {
				mustUpdate(t, s, func(tx *Tx) error {
					return tx.CreateList(&List{Address: addr, Settings: DefaultSettings()})
				})
			}
		})
	}
}
