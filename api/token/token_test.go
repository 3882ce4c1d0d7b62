package token

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func newStore(t *testing.T) (*Store, *time.Time) {
	t.Helper()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := Open(filepath.Join(t.TempDir(), "cloister.db"))
	s.Now = func() time.Time { return now }
	return s, &now
}

// TestAuthenticate creates tokens and presents good, wrong, revoked,
// expired and malformed secrets.
func TestAuthenticate(t *testing.T) {
	s, now := newStore(t)
	_, live, err := s.Create("ci", []string{"site:admin"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, short, err := s.Create("short", []string{"list:a@x.test:read"}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	gone, revoked, err := s.Create("gone", []string{"site:admin"}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke(gone.ID); err != nil {
		t.Fatal(err)
	}
	*now = now.Add(2 * time.Hour)
	other := byte('A')
	if live[len(live)-1] == 'A' {
		other = 'B'
	}
	flipped := live[:len(live)-1] + string(other)
	tests := []struct {
		name   string
		secret string
		want   error
	}{
		{"live", live, nil},
		{"expired", short, ErrExpired},
		{"revoked", revoked, ErrUnknown},
		{"one character changed", flipped, ErrUnknown},
		{"empty", "", ErrMalformed},
		{"no prefix", strings.TrimPrefix(live, Prefix), ErrMalformed},
		{"truncated", live[:len(live)-2], ErrMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, err := s.Authenticate(tt.secret)
			if !errors.Is(err, tt.want) {
				t.Fatalf("Authenticate = %v, want %v", err, tt.want)
			}
			if err == nil && !tok.LastUsed.Equal(*now) {
				t.Fatalf("LastUsed = %v, want %v", tok.LastUsed, *now)
			}
			if err != nil && tt.secret != "" && strings.Contains(err.Error(), tt.secret) {
				t.Fatalf("error %q carries the secret", err)
			}
		})
	}
}

// TestStoredHashedOnly checks that no byte of cloister.db holds the secret
// and that last use and revocation are listed.
func TestStoredHashedOnly(t *testing.T) {
	s, now := newStore(t)
	tok, secret, err := s.Create("ops", []string{"site:admin"}, 90*24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	*now = now.Add(time.Hour)
	if _, err := s.Authenticate(secret); err != nil {
		t.Fatal(err)
	}
	err = s.File.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucket).ForEach(func(k, v []byte) error {
			raw := strings.TrimPrefix(secret, Prefix)
			if strings.Contains(string(k), raw) || strings.Contains(string(v), raw) {
				t.Errorf("secret stored in clear: %s = %s", k, v)
			}
			return nil
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	all, err := s.List()
	if err != nil || len(all) != 1 {
		t.Fatalf("List = %v, %v", all, err)
	}
	if all[0].ID != tok.ID || !all[0].LastUsed.Equal(*now) || !all[0].Expires.Equal(tok.Created.Add(90*24*time.Hour)) {
		t.Fatalf("listed %+v", all[0])
	}
	if _, err := s.Revoke("ops"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Revoke("ops"); err == nil {
		t.Fatal("second revoke succeeded")
	}
	if _, err := s.Authenticate(secret); !errors.Is(err, ErrUnknown) {
		t.Fatalf("revoked token: %v", err)
	}
}

// TestParseLifetime reads expiries.
func TestParseLifetime(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		bad  bool
	}{
		{"90d", 90 * 24 * time.Hour, false},
		{"12h", 12 * time.Hour, false},
		{"never", 0, false},
		{"", 0, false},
		{"-3d", 0, true},
		{"3x", 0, true},
		{"d", 0, true},
		{"-1h", 0, true},
	}
	for _, tt := range tests {
		got, err := ParseLifetime(tt.in)
		if (err != nil) != tt.bad || got != tt.want {
			t.Errorf("ParseLifetime(%q) = %v, %v", tt.in, got, err)
		}
	}
}
