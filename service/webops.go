package service

import (
	"context"

	"cloister/lists"
)

// Operations the web interface needs besides those of the API: what an
// anonymous visitor may see of the site (the directory, a list's public
// page). They read only and are not audited.

// ListAbout is the public face of a list: what its page shows anyone
// allowed to know it exists.
type ListAbout struct {
	Address         string `json:"address"`
	Description     string `json:"description"`
	SubscribePolicy string `json:"subscribe_policy"`
	Archive         string `json:"archive"`
	Advertised      bool   `json:"advertised"`
	// Roles are the actor's roles on the list (none for a visitor).
	Roles []string `json:"roles,omitempty"`
	// Delivery is the actor's delivery mode when subscribed.
	Delivery string `json:"delivery,omitempty"`
}

// Directory returns the lists an actor may see in the list directory: the
// advertised ones (advertised = false keeps a confidential list out of it)
// and, for a person, the lists they have a role on. Unlike ListList it
// needs no address: an anonymous visitor of the web sees the advertised
// lists.
func (s *Service) Directory(ctx context.Context, a Actor) ([]ListSummary, error) {
	if a.Address != "" || !a.isPerson() {
		return s.ListList(ctx, a, ListListRequest{})
	}
	var out []ListSummary
	err := s.site.Lists.View(func(tx *lists.Tx) error {
		all, err := tx.Lists()
		if err != nil {
			return err
		}
		for _, l := range all {
			if l.Settings.Advertised {
				out = append(out, ListSummary{Address: l.Address, Description: l.Description, Advertised: true, Members: -1})
			}
		}
		return nil
	})
	if err != nil {
		return nil, internal(err, "read the lists")
	}
	return out, nil
}

// About returns the public page of a list. A list that is not advertised
// is not_found for anyone without a role on it, exactly as an unknown one,
// so that its existence does not leak.
func (s *Service) About(ctx context.Context, a Actor, req ListRef) (ListAbout, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return ListAbout{}, err
	}
	out := ListAbout{Address: l.Address, Description: l.Description, SubscribePolicy: l.Settings.SubscribePolicy,
		Archive: l.Settings.Archive, Advertised: l.Settings.Advertised}
	if a.isPerson() && a.Address != "" {
		s.site.Lists.View(func(tx *lists.Tx) error {
			if m, err := tx.Member(l.Address, a.Address); err == nil {
				out.Roles = memberInfo(m).Roles
				out.Delivery = string(m.Delivery)
			}
			return nil
		})
	}
	if !l.Settings.Advertised && len(out.Roles) == 0 && (a.isPerson() || a.Method == "") {
		return ListAbout{}, errorf(CodeNotFound, "no list %s", l.Address)
	}
	return out, nil
}
