package web

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"strings"
	"sync"
	"time"
)

// loginTokenLife is how long an emailed login token may be used.
const loginTokenLife = 15 * time.Minute

// Why a login token is refused.
var (
	errTokenUnknown = errors.New("this login code is unknown or was already used")
	errTokenExpired = errors.New("this login code has expired: ask for a new one")
)

// loginTokens keeps the SHA-256 digests of the login tokens mailed and not
// yet used: the token itself is only in the mail.
type loginTokens struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[[32]byte]pendingLogin
}

type pendingLogin struct {
	address string
	expires time.Time
}

func newLoginTokens(now func() time.Time) *loginTokens {
	return &loginTokens{now: now, m: map[[32]byte]pendingLogin{}}
}

// tokenEncoding writes tokens as lower-case base32 without padding: easy to
// read out of a mail and to type.
var tokenEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// issue returns a new single-use token for address.
func (t *loginTokens) issue(address string) string {
	b := make([]byte, 15) // 120 bits
	if _, err := rand.Read(b); err != nil {
		panic("crypto/rand: " + err.Error())
	}
	tok := strings.ToLower(tokenEncoding.EncodeToString(b))
	now := t.now()
	t.mu.Lock()
	defer t.mu.Unlock()
	for k, p := range t.m {
		if now.After(p.expires.Add(loginTokenLife)) {
			delete(t.m, k)
		}
	}
	t.m[digest(tok)] = pendingLogin{address: address, expires: now.Add(loginTokenLife)}
	return tok
}

// redeem uses up a token and returns its address. A token is good once: it
// is removed whatever the outcome, an expired one included.
func (t *loginTokens) redeem(tok string) (string, error) {
	tok = strings.ToLower(strings.Join(strings.Fields(tok), ""))
	t.mu.Lock()
	defer t.mu.Unlock()
	k := digest(tok)
	p, ok := t.m[k]
	if !ok {
		return "", errTokenUnknown
	}
	delete(t.m, k)
	if t.now().After(p.expires) {
		return "", errTokenExpired
	}
	return p.address, nil
}

func digest(tok string) [32]byte { return sha256.Sum256([]byte(tok)) }
