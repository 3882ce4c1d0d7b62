package api

import (
	"sync"
	"time"
)

// Limiter refuses a client that failed to authenticate too often: after
// Failures failures within Window, every request of that client is refused
// until the oldest failure leaves the window. Clients are keyed by
// "uid:N" (Unix socket peer) or "ip:ADDR" (TCP).
type Limiter struct {
	// Failures is how many failed authentications a client may have in Window.
	Failures int
	// Window is how long a failure counts.
	Window time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Store keeps the failures across restarts of the daemon (the token
	// store's bucket in cloister.db); nil: in memory only.
	Store FailureStore

	mu     sync.Mutex
	seen   map[string][]time.Time
	loaded bool
}

// FailureStore keeps the recent failed authentications of each client
// (token.Store does, in cloister.db).
type FailureStore interface {
	// Failures returns every client's failures within window of now.
	Failures(window time.Duration) (map[string][]time.Time, error)
	// SetFailures records a client's failures (none: forgets it).
	SetFailures(client string, ts []time.Time, window time.Duration) error
}

// Default limits: 10 failures a minute per client.
const (
	DefaultAuthFailures = 10
	DefaultAuthWindow   = time.Minute
)

// maxClients bounds the memory the limiter uses: past it, the entries of
// clients whose failures have all expired are dropped.
const maxClients = 10000

func (l *Limiter) now() time.Time {
	if l.Now == nil {
		return time.Now()
	}
	return l.Now()
}

// recent returns the client's failures still in the window (with l.mu held).
func (l *Limiter) recent(client string, now time.Time) []time.Time {
	ts := l.seen[client]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.Window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.seen, client)
	} else {
		l.seen[client] = ts
	}
	return ts
}

// load reads the stored failures once (with l.mu held). A store that
// cannot be read leaves the limiter in memory only, and says so.
func (l *Limiter) load() error {
	if l.loaded {
		return nil
	}
	l.loaded = true
	if l.seen == nil {
		l.seen = map[string][]time.Time{}
	}
	if l.Store == nil {
		return nil
	}
	stored, err := l.Store.Failures(l.Window)
	if err != nil {
		return err
	}
	for c, ts := range stored {
		if len(ts) > l.Failures {
			ts = ts[len(ts)-l.Failures:]
		}
		l.seen[c] = ts
	}
	return nil
}

// Load reads the stored failures now (else the first request does): the
// daemon calls it at start, so that a store that cannot be read is seen
// at once.
func (l *Limiter) Load() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.load()
}

// Blocked reports whether the client is refused now, and for how long.
func (l *Limiter) Blocked(client string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.load()
	now := l.now()
	ts := l.recent(client, now)
	if len(ts) < l.Failures {
		return false, 0
	}
	return true, l.Window - now.Sub(ts[0])
}

// Fail records a failed authentication of the client, in the store too
// when there is one (an error writing it is returned; the failure counts
// in memory either way).
func (l *Limiter) Fail(client string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.load()
	now := l.now()
	if len(l.seen) >= maxClients {
		for c := range l.seen {
			l.recent(c, now)
		}
	}
	ts := append(l.recent(client, now), now)
	if len(ts) > l.Failures {
		ts = ts[len(ts)-l.Failures:]
	}
	l.seen[client] = ts
	if l.Store == nil {
		return nil
	}
	return l.Store.SetFailures(client, ts, l.Window)
}
