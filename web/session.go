package web

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"sync"
	"time"
)

// Session lifetimes: idle and absolute.
const (
	sessionIdle     = 30 * time.Minute
	sessionAbsolute = 12 * time.Hour
	// cookieName has the __Host- prefix: Secure, Path=/, no Domain, so
	// that no sibling host can plant a session cookie.
	cookieName = "__Host-cloister"
	// maxSessions bounds the table: past it, anonymous sessions (a CSRF
	// token only) are dropped first, so a flood of cookie-less requests
	// costs memory for at most this many.
	maxSessions = 50000
)

// session is one browser's state: anonymous (CSRF token only) until a
// login, then an address and the method that proved it.
type session struct {
	id      string
	csrf    string
	Address string // "" before login
	Method  string // rules.MethodMD5 or rules.MethodSMIME
	created time.Time
	seen    time.Time
	flash   string
}

// loggedIn reports whether the session carries a proven address.
func (s *session) loggedIn() bool { return s.Address != "" }

// sessions is the in-memory session table.
type sessions struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]*session
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: map[string]*session{}}
}

// randomToken returns n random bytes, base64url without padding.
func randomToken(n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// get returns the live session with the id, touching it, or nil when there
// is none or it expired (idle or absolute); an expired one is removed.
func (t *sessions) get(id string) *session {
	t.mu.Lock()
	defer t.mu.Unlock()
	s := t.m[id]
	if s == nil {
		return nil
	}
	now := t.now()
	if now.Sub(s.seen) > sessionIdle || now.Sub(s.created) > sessionAbsolute {
		delete(t.m, id)
		return nil
	}
	s.seen = now
	return s
}

// create starts a new anonymous session.
func (t *sessions) create() *session {
	now := t.now()
	s := &session{id: randomToken(32), csrf: randomToken(32), created: now, seen: now}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.gc(now)
	for id, old := range t.m {
		if len(t.m) < maxSessions {
			break
		}
		if !old.loggedIn() {
			delete(t.m, id)
		}
	}
	t.m[s.id] = s
	return s
}

// login replaces old (which may be nil) by a new session for address proven
// by method: a fresh id and CSRF token, so that an id planted before the
// login is worth nothing after it (no session fixation).
func (t *sessions) login(old *session, address, method string) *session {
	t.mu.Lock()
	if old != nil {
		delete(t.m, old.id)
	}
	t.mu.Unlock()
	s := t.create()
	s.Address, s.Method = address, method
	return s
}

// drop ends a session (logout).
func (t *sessions) drop(s *session) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.m, s.id)
}

// gc removes expired sessions; the caller holds mu. It walks the table
// only when it has grown past a tenth of its bound.
func (t *sessions) gc(now time.Time) {
	if len(t.m) < maxSessions/10 {
		return
	}
	for id, s := range t.m {
		if now.Sub(s.seen) > sessionIdle || now.Sub(s.created) > sessionAbsolute {
			delete(t.m, id)
		}
	}
}

// setCookie writes the session cookie.
func setCookie(w http.ResponseWriter, s *session) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: s.id, Path: "/",
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
		MaxAge: int(sessionAbsolute / time.Second),
	})
}

// clearCookie removes the session cookie.
func clearCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{
		Name: cookieName, Value: "", Path: "/", MaxAge: -1,
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode,
	})
}

// csrfOK reports whether the form's token is the session's.
func csrfOK(s *session, token string) bool {
	return s != nil && token != "" && subtle.ConstantTimeCompare([]byte(s.csrf), []byte(token)) == 1
}
