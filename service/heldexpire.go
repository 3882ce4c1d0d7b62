package service

import (
	"context"
	"fmt"

	"cloister/moderation"
)

// HeldExpired says what HeldExpire dropped.
type HeldExpired struct {
	// Held is the number of held posts dropped (each sender told).
	Held int `json:"held"`
	// Tokens is the number of expired tokens purged.
	Tokens int `json:"tokens"`
}

var opHeldExpire = Op{"held.expire", ClassSite, ""}

// HeldExpire drops the held posts past their expiry, telling each sender,
// and purges the tokens that expired long ago (site admins), through the
// moderation code (moderation.ExpireHeld).
func (s *Service) HeldExpire(ctx context.Context, a Actor) (res HeldExpired, err error) {
	defer func() { s.audit(a, opHeldExpire, "", "", err) }()
	if err := s.authorize(a, opHeldExpire, nil); err != nil {
		return HeldExpired{}, err
	}
	n, err := moderation.ExpireHeld(s.site, s.now())
	res.Held, res.Tokens = n.Held, n.Tokens
	if res.Held > 0 || res.Tokens > 0 {
		s.auditDone(a, opHeldExpire, "", fmt.Sprintf("%d held posts, %d tokens", res.Held, res.Tokens))
	}
	if err != nil {
		return res, internal(err, "expire the held posts")
	}
	return res, nil
}
