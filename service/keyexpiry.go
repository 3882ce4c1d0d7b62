package service

import (
	"context"
	"fmt"
	"time"

	"cloister/internal/site"
)

// WithKeyExpiryNotices sets how the service queues the key expiry notices
// (keyexpiry.KeyExpiryNotices); it returns how many it queued.
func WithKeyExpiryNotices(f func(s *site.Site, now time.Time) (int, error)) Option {
	return func(s *Service) { s.expiryNotices = f }
}

var opKeyExpiry = Op{"key.expiry", ClassSite, ""}

// KeyExpiryNotices queues a notice to each person whose key or certificate
// expires soon and to the owners of lists whose own does, each key once
// per expiry date (site admins); it returns how many were queued.
func (s *Service) KeyExpiryNotices(ctx context.Context, a Actor) (sent int, err error) {
	defer func() { s.audit(a, opKeyExpiry, "", "", err) }()
	if err := s.authorize(a, opKeyExpiry, nil); err != nil {
		return 0, err
	}
	if s.expiryNotices == nil {
		return 0, errorf(CodeUnavailable, "key expiry notices cannot be sent from here")
	}
	sent, err = s.expiryNotices(s.site, s.now())
	if sent > 0 {
		s.auditDone(a, opKeyExpiry, "", fmt.Sprintf("%d notices", sent))
	}
	if err != nil {
		return sent, internal(err, "queue the key expiry notices")
	}
	return sent, nil
}
