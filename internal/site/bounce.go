package site

import (
	"sync"
	"time"

	"cloister/bounce"
	"cloister/internal/listaddr"
)

// bounceSecret is loaded (or created) once per process, on first success.
type bounceSecret struct {
	mu     sync.Mutex
	secret *bounce.Secret
	failed bool // the last attempt failed and was logged
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
		s.bs.secret, s.bs.failed = sec, false
	}
	return s.bs.secret, nil
}

// VERP returns the signed bounce address for the copy of a post of list to
// rcpt (bounce.Secret.Address). Without a secret it is the plain
// LIST-bounces address, whose bounces are not scored, and the log says so
// once until the secret can be had again.
func (s *Site) VERP(list, rcpt string, now time.Time) string {
	sec, err := s.BounceSecret()
	if err != nil {
		s.bs.mu.Lock()
		first := !s.bs.failed
		s.bs.failed = true
		s.bs.mu.Unlock()
		if first {
			s.Log.Error("no bounce secret: copies leave from the plain bounce address, whose bounces are not scored", "list", list, "err", err)
		}
		return listaddr.Address(list, listaddr.SubBounces)
	}
	return sec.Address(list, rcpt, now)
}
