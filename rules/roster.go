package rules

import (
	"strings"

	"cloister/lists"
)

// ListsRoster answers the scenario conditions from the list store inside one
// transaction: is_subscriber from the member role, is_owner from the owner
// role, is_editor from the moderator role, is_listmaster from the site's
// listmasters. A bare list name (is_subscriber(spammer,[sender])) is taken as
// NAME@Domain. A store error answers false (the scenario then falls through
// to its stricter rules).
type ListsRoster struct {
	Tx          *lists.Tx
	Listmasters []string
	Domain      string
}

func (r ListsRoster) list(l string) string {
	if !strings.Contains(l, "@") && r.Domain != "" {
		return l + "@" + r.Domain
	}
	return l
}

// IsSubscriber implements Roster.
func (r ListsRoster) IsSubscriber(list, addr string) bool {
	ok, err := r.Tx.IsSubscriber(r.list(list), addr)
	return err == nil && ok
}

// IsOwner implements Roster.
func (r ListsRoster) IsOwner(list, addr string) bool {
	ok, err := r.Tx.IsOwner(r.list(list), addr)
	return err == nil && ok
}

// IsEditor implements Roster.
func (r ListsRoster) IsEditor(list, addr string) bool {
	ok, err := r.Tx.IsModerator(r.list(list), addr)
	return err == nil && ok
}

// IsListmaster implements Roster.
func (r ListsRoster) IsListmaster(addr string) bool {
	for _, l := range r.Listmasters {
		if strings.EqualFold(strings.TrimSpace(l), addr) {
			return true
		}
	}
	return false
}
