package site

import (
	"sync"
	"time"

	"cloister/bounce"
	"cloister/listaddr"
)

// bounceSecret is loaded (or created) once per process, on first success.
type bounceSecret struct {
	mu     sync.Mutex
	secret *bounce.Secret
}

// BounceSecret returns the site's bounce secret, creating it in the state
// directory when the site has none yet. A failure is not remembered: the
// next call tries again.
func (s *Site) BounceSecret() (*bounce.Secret, error) {
	s.bs.mu.Lock()
	defer s.bs.mu.Unlock()
	if s.bs.secret == nil {
		sec, err := bounce.OpenSecret(s.Config.BounceSecretPath())
		if err != nil {
			return nil, err
		}
		s.bs.secret = sec
	}
	return s.bs.secret, nil
}

// VERP returns the signed bounce address for the copy of a post of list to
// rcpt (bounce.Secret.Address). Without a secret it is the plain
// LIST-bounces address, whose bounces are not scored, and says so in the log.
func (s *Site) VERP(list, rcpt string, now time.Time) string {
	sec, err := s.BounceSecret()
	if err != nil {
		s.Log.Error("no bounce secret: bounces of this copy will not be scored", "list", list, "err", err)
		return listaddr.Address(list, listaddr.SubBounces)
	}
	return sec.Address(list, rcpt, now)
}
