package lists

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
)

// Errors of UseToken, distinct so replies can say what went wrong.
var (
	ErrNoToken      = errors.New("unknown token")
	ErrTokenUsed    = errors.New("token already used")
	ErrTokenExpired = errors.New("token expired")
)

// tokenBytes is the randomness in a token: 160 bits, 32 base32 characters.
const tokenBytes = 20

const (
	maxTokenData = 64 << 10
	maxTokenLen  = 64
)

// Token is a single-use, expiring secret mailed to an address to confirm an
// action (subscribe, unsubscribe, request_auth, a held-post decision). Its
// value is unguessable: whoever returns it proves they read that mailbox
// (the md5 authentication method of the scenarios).
type Token struct {
	// Value is the secret: lower-case base32 (a-z, 2-7), safe in a
	// LIST-confirm+TOKEN address.
	Value string `json:"value"`
	// List is the list's posting address.
	List string `json:"list"`
	// Address is who the token was sent to.
	Address string `json:"address"`
	// Action is what returning the token does (e.g. subscribe, send,
	// approve); the caller defines the names.
	Action string `json:"action"`
	// Data is what the action needs (e.g. a queue file, a held ID, JSON).
	Data string `json:"data,omitempty"`
	// Created is when the token was made.
	Created time.Time `json:"created"`
	// Expires is when the token stops being accepted.
	Expires time.Time `json:"expires"`
	// Used is when the token was used; zero while unused.
	Used time.Time `json:"used,omitzero"`
}

// NewToken fills t.Value with a fresh random secret (crypto/rand, 160 bits),
// t.Created with the transaction's time and, when zero, t.Expires with
// Created plus ttl (ttl <= 0 means the list's token_expire_hours), and stores
// it. The list must exist.
func (tx *Tx) NewToken(t *Token, ttl time.Duration) error {
	l, err := tx.List(t.List)
	if err != nil {
		return fmt.Errorf("new token: %w", err)
	}
	t.List = l.Address
	if t.Action == "" || len(t.Action) > maxTokenLen || strings.ContainsFunc(t.Action, unicode.IsSpace) {
		return fmt.Errorf("new token: bad action %q", t.Action)
	}
	if _, err := CanonicalAddress(t.Address); err != nil {
		return fmt.Errorf("new token: %w", err)
	}
	if len(t.Data) > maxTokenData {
		return fmt.Errorf("new token: data longer than %d bytes", maxTokenData)
	}
	t.Value = newID(tokenBytes)
	t.Created = tx.now.UTC()
	t.Used = time.Time{}
	if t.Expires.IsZero() {
		if ttl <= 0 {
			ttl = time.Duration(l.Settings.TokenExpireHours) * time.Hour
		}
		t.Expires = t.Created.Add(ttl)
	}
	b, err := tx.bucket(bucketTokens)
	if err != nil {
		return err
	}
	if b.Get([]byte(t.Value)) != nil { // 160 random bits: never in practice
		return fmt.Errorf("new token: value collision")
	}
	if err := putJSON(b, []byte(t.Value), t); err != nil {
		return fmt.Errorf("new token: %w", err)
	}
	return nil
}

// tokenKey normalizes a token as typed or mailed back (case-insensitive).
func tokenKey(value string) ([]byte, error) {
	v := strings.ToLower(strings.TrimSpace(value))
	if v == "" || len(v) > maxTokenLen {
		return nil, ErrNoToken
	}
	return []byte(v), nil
}

// Token returns a token without using it (ErrNoToken if unknown).
func (tx *Tx) Token(value string) (*Token, error) {
	key, err := tokenKey(value)
	if err != nil {
		return nil, err
	}
	b, err := tx.bucket(bucketTokens)
	if err != nil {
		return nil, err
	}
	data := b.Get(key)
	if data == nil {
		return nil, ErrNoToken
	}
	t := new(Token)
	if err := json.Unmarshal(data, t); err != nil {
		return nil, fmt.Errorf("decode token: %w", err)
	}
	return t, nil
}

// UseToken spends a token: it marks it used and returns it, or refuses with
// ErrNoToken, ErrTokenUsed or ErrTokenExpired (returning the token with the
// last two, so a reply can name the list). It must run in
// Update, and the caller should check List and Action before acting.
func (tx *Tx) UseToken(value string) (*Token, error) {
	t, err := tx.Token(value)
	if err != nil {
		return nil, err
	}
	if !t.Used.IsZero() {
		return t, ErrTokenUsed
	}
	if !tx.now.Before(t.Expires) {
		return t, ErrTokenExpired
	}
	t.Used = tx.now.UTC()
	b, err := tx.bucket(bucketTokens)
	if err != nil {
		return nil, err
	}
	if err := putJSON(b, []byte(t.Value), t); err != nil {
		return nil, fmt.Errorf("use token: %w", err)
	}
	return t, nil
}

// PurgeTokens deletes the tokens that expired before the given time, used or
// not, and returns how many it deleted. Until then a used token answers
// ErrTokenUsed rather than ErrNoToken.
func (tx *Tx) PurgeTokens(before time.Time) (int, error) {
	b, err := tx.bucket(bucketTokens)
	if err != nil {
		return 0, err
	}
	n := 0
	err = deleteWhere(b, func(v []byte) bool {
		var t Token
		if json.Unmarshal(v, &t) != nil || t.Expires.Before(before) {
			n++
			return true
		}
		return false
	})
	return n, err
}
