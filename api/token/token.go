// Package token stores the REST API's bearer tokens: a 256-bit random secret
// shown once at creation, kept only as its SHA-256 hash, with a name, the
// scopes it grants, its creation time, expiry and last use. Tokens live in
// their own bucket of the site's cloister.db, so `cloister backup` keeps them
// and the database's one-writer lock covers them.
package token

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"cloister/internal/boltfile"
)

// Prefix starts every secret, so that a leaked one is recognised by secret
// scanners and a mistyped one is refused before any lookup.
const Prefix = "cloister_"

// bucket holds token hash (hex) -> JSON Token.
var bucket = []byte("api_tokens")

// LastUseGranularity is how stale a token's LastUsed may become before an
// authentication writes it again: a busy client does not turn every request
// into a write of cloister.db.
const LastUseGranularity = time.Minute

// Errors returned by Authenticate. They never carry the secret.
var (
	// ErrUnknown means no token has this secret (or it was revoked).
	ErrUnknown = errors.New("unknown or revoked token")
	// ErrExpired means the token exists but its expiry has passed.
	ErrExpired = errors.New("token expired")
	// ErrMalformed means the presented value is not a Cloister token.
	ErrMalformed = errors.New("malformed token")
)

// Token is one stored token; the secret itself is never stored.
type Token struct {
	// ID names the token in `token list` and `token revoke`.
	ID string `json:"id"`
	// Name is the operator's label.
	Name string `json:"name,omitempty"`
	// Scopes are the scope strings granted, e.g. "list:team@lists.example.org:owner".
	Scopes []string `json:"scopes"`
	// Created is when the token was made.
	Created time.Time `json:"created"`
	// Expires is when the token stops working; zero means never.
	Expires time.Time `json:"expires,omitzero"`
	// LastUsed is the last successful authentication (to LastUseGranularity).
	LastUsed time.Time `json:"last_used,omitzero"`
	// Hash is the hex SHA-256 of the secret.
	Hash string `json:"hash,omitempty"`
}

// Expired reports whether the token has expired at now.
func (t Token) Expired(now time.Time) bool {
	return !t.Expires.IsZero() && !now.Before(t.Expires)
}

// Store is the token bucket of one cloister.db.
type Store struct {
	// File is the database (the site's cloister.db) and its lock time-out.
	File boltfile.File
	// Now is the clock (time.Now when nil).
	Now func() time.Time
}

// Open returns the token store of the database at path.
func Open(path string) *Store { return &Store{File: boltfile.File{Path: path}} }

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

// hashOf returns the hex SHA-256 of a secret.
func hashOf(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Create makes a token with the given scopes, name and lifetime (zero: no
// expiry) and returns it with its secret, which is not stored and cannot be
// shown again.
func (s *Store) Create(name string, scopes []string, lifetime time.Duration) (Token, string, error) {
	if len(scopes) == 0 {
		return Token{}, "", errors.New("a token needs at least one scope")
	}
	var raw [32]byte
	if _, err := rand.Read(raw[:]); err != nil {
		return Token{}, "", fmt.Errorf("token secret: %w", err)
	}
	secret := Prefix + base64.RawURLEncoding.EncodeToString(raw[:])
	var id [6]byte
	if _, err := rand.Read(id[:]); err != nil {
		return Token{}, "", fmt.Errorf("token id: %w", err)
	}
	now := s.now().UTC().Truncate(time.Second)
	t := Token{ID: hex.EncodeToString(id[:]), Name: name, Scopes: scopes, Created: now, Hash: hashOf(secret)}
	if lifetime > 0 {
		t.Expires = now.Add(lifetime)
	}
	err := s.File.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucket)
		if err != nil {
			return err
		}
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		return b.Put([]byte(t.Hash), data)
	})
	if err != nil {
		return Token{}, "", fmt.Errorf("store token: %w", err)
	}
	return t, secret, nil
}

// List returns every token, oldest first.
func (s *Store) List() ([]Token, error) {
	var out []Token
	err := s.File.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var t Token
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode token: %w", err)
			}
			out = append(out, t)
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("list tokens: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if !out[i].Created.Equal(out[j].Created) {
			return out[i].Created.Before(out[j].Created)
		}
		return out[i].ID < out[j].ID
	})
	return out, nil
}

// Revoke deletes the token with this ID (or name, when exactly one token has
// it). It fails when none matches.
func (s *Store) Revoke(idOrName string) (Token, error) {
	var gone Token
	err := s.File.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return fmt.Errorf("no token %q", idOrName)
		}
		var keys [][]byte
		var found []Token
		err := b.ForEach(func(k, v []byte) error {
			var t Token
			if json.Unmarshal(v, &t) != nil {
				return nil
			}
			if t.ID == idOrName || (t.Name != "" && t.Name == idOrName) {
				keys = append(keys, append([]byte(nil), k...))
				found = append(found, t)
			}
			return nil
		})
		if err != nil {
			return err
		}
		switch len(found) {
		case 0:
			return fmt.Errorf("no token %q", idOrName)
		case 1:
		default:
			return fmt.Errorf("%d tokens are named %q: revoke one by its ID", len(found), idOrName)
		}
		gone = found[0]
		return b.Delete(keys[0])
	})
	return gone, err
}

// Authenticate returns the token whose secret this is, refusing unknown,
// revoked, expired and malformed ones, and records its last use.
func (s *Store) Authenticate(secret string) (Token, error) {
	if !strings.HasPrefix(secret, Prefix) || len(secret) != len(Prefix)+43 {
		return Token{}, ErrMalformed
	}
	h := hashOf(secret)
	now := s.now().UTC()
	var t Token
	found := false
	err := s.File.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(h))
		if v == nil {
			return nil
		}
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode token: %w", err)
		}
		found = subtle.ConstantTimeCompare([]byte(t.Hash), []byte(h)) == 1
		return nil
	})
	if err != nil {
		return Token{}, fmt.Errorf("read token: %w", err)
	}
	if !found {
		return Token{}, ErrUnknown
	}
	if t.Expired(now) {
		return Token{}, ErrExpired
	}
	if now.Sub(t.LastUsed) >= LastUseGranularity {
		t.LastUsed = now.Truncate(time.Second)
		if err := s.touch(t); err != nil {
			return Token{}, err
		}
	}
	return t, nil
}

// touch writes a token's LastUsed back, unless it was revoked meanwhile.
func (s *Store) touch(t Token) error {
	err := s.File.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucket)
		if b == nil || b.Get([]byte(t.Hash)) == nil {
			return ErrUnknown
		}
		data, err := json.Marshal(t)
		if err != nil {
			return err
		}
		return b.Put([]byte(t.Hash), data)
	})
	if errors.Is(err, ErrUnknown) {
		return ErrUnknown
	}
	if err != nil {
		return fmt.Errorf("record token use: %w", err)
	}
	return nil
}

// ParseLifetime reads an expiry such as "90d", "12h" or "never" ("" is never).
func ParseLifetime(s string) (time.Duration, error) {
	switch s {
	case "", "never", "0":
		return 0, nil
	}
	if n, ok := strings.CutSuffix(s, "d"); ok {
		var days int
		if _, err := fmt.Sscanf(n, "%d", &days); err != nil || days <= 0 || fmt.Sprint(days) != n {
			return 0, fmt.Errorf("expiry %q: want a number of days such as 90d", s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("expiry %q: want 90d, 12h or never", s)
	}
	return d, nil
}
