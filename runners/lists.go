package runners

import (
	"errors"

	"cloister/internal/site"
	"cloister/lists"
)

// loadList reads a list in one short transaction; a list that no longer
// exists is a permanent error for the entry.
func loadList(s *site.Site, address string) (*lists.List, error) {
	l, _, err := listWith(s, address, nil)
	return l, err
}

// listWith reads a list and, in the same transaction, the addresses of the
// members for which keep is true (none when keep is nil).
func listWith(s *site.Site, address string, keep func(*lists.Member) bool) (*lists.List, []string, error) {
	var list *lists.List
	var addrs []string
	err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		if list, err = tx.List(address); err != nil || keep == nil {
			return err
		}
		return tx.ForEachMember(address, func(m *lists.Member) error {
			if keep(m) {
				addrs = append(addrs, m.Address)
			}
			return nil
		})
	})
	if errors.Is(err, lists.ErrNoList) {
		return nil, nil, Permanent("list %s no longer exists", address)
	}
	return list, addrs, err
}
