package service

import (
	"strings"

	"cloister/lists"
)

// authorizeKeyHolder authorizes op on every list address holds a role on
// besides l, after op was authorized on l. A key or certificate is bound
// for the whole site: every list the address is on encrypts to it and
// trusts its signatures as the address's. An owner of one list who adds a
// member of another list to theirs must not thereby be able to change the
// key that other list relies on (and so post, or give owner commands, as
// that member there). The refusal does not name the other lists, whose
// rosters the actor may not read.
func (s *Service) authorizeKeyHolder(a Actor, op Op, l *lists.List, address string) error {
	if a.isSiteAdmin() {
		return nil
	}
	var others []*lists.List
	err := s.site.Lists.View(func(tx *lists.Tx) error {
		addrs, err := tx.ListsOf(address)
		if err != nil {
			return err
		}
		for _, la := range addrs {
			if strings.EqualFold(la, l.Address) {
				continue
			}
			ol, err := tx.List(la)
			if err != nil {
				return err
			}
			others = append(others, ol)
		}
		return nil
	})
	if err != nil {
		return storeError(err, "read the lists of "+address)
	}
	for _, ol := range others {
		if err := s.authorize(a, op, ol); err != nil {
			return errorf(CodeForbidden, "%s is also on lists this actor may not run; their keys are changed by an owner of every list the address is on, or by the site's admins", address)
		}
	}
	return nil
}

// AuthorizeKeyHolder refuses a change of address's key or certificate
// through list l by an actor who may not run every other list the address
// holds a role on (the site's admins may). The owner's "key set ADDRESS"
// command mail asks it before binding, as KeyAdd and KeyRevoke do.
func (s *Service) AuthorizeKeyHolder(a Actor, l *lists.List, address string) error {
	return s.authorizeKeyHolder(a, opKeyAdd, l, address)
}
