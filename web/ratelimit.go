package web

import (
	"sync"
	"time"
)

// limiter allows n events per key in a sliding window: logins asked per
// address and per client, mails the web sends, login attempts.
type limiter struct {
	mu     sync.Mutex
	now    func() time.Time
	n      int
	window time.Duration
	seen   map[string][]time.Time
}

func newLimiter(now func() time.Time, n int, window time.Duration) *limiter {
	return &limiter{now: now, n: n, window: window, seen: map[string][]time.Time{}}
}

// allow records an event for key and reports whether it is within the limit.
func (l *limiter) allow(key string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	kept := l.seen[key][:0]
	for _, t := range l.seen[key] {
		if now.Sub(t) < l.window {
			kept = append(kept, t)
		}
	}
	if len(kept) >= l.n {
		l.seen[key] = kept
		return false
	}
	l.seen[key] = append(kept, now)
	if len(l.seen) > 100000 { // bound memory under a flood of keys
		for k, ts := range l.seen {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= l.window {
				delete(l.seen, k)
			}
		}
	}
	return true
}
