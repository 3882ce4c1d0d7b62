package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/listaddr"
)

func testSecret(t *testing.T, b byte) *Secret {
	t.Helper()
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = b
	}
	s, err := NewSecret(raw)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// ext returns what deliver records of a bounce address: the lower-cased
// text after '+' in the local part.
func ext(t *testing.T, addr string) string {
	t.Helper()
	idx, _ := listaddr.ParseIndex(strings.NewReader("team@lists.test\n" + strings.Repeat("l", 50) + "@lists.test\n"))
	_, sub, e, ok := idx.Resolve(addr)
	if !ok || sub != listaddr.SubBounces {
		t.Fatalf("Resolve(%s) = %s %v", addr, sub, ok)
	}
	return e
}

func TestVERPAddress(t *testing.T) {
	s, other := testSecret(t, 1), testSecret(t, 2)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const list = "team@lists.test"
	members := func() ([]string, error) { return []string{"ann@subs.test", "bob@subs.test"}, nil }
	long := strings.Repeat("x", 40) + "@subs.test"
	for _, tc := range []struct {
		name, addr string
		verify     *Secret
		at         time.Time
		want       string
		err        error
	}{
		{"genuine", s.Address(list, "bob@subs.test", now), s, now, "bob@subs.test", nil},
		{"case folded by an MTA", strings.ToUpper(s.Address(list, "bob@subs.test", now)), s, now, "bob@subs.test", nil},
		{"member address in upper case", s.Address(list, "Bob@Subs.Test", now), s, now, "bob@subs.test", nil},
		{"29 days later", s.Address(list, "bob@subs.test", now), s, now.AddDate(0, 0, VERPDays-1), "bob@subs.test", nil},
		{"31 days later", s.Address(list, "bob@subs.test", now), s, now.AddDate(0, 0, VERPDays+1), "", ErrExpired},
		{"another site's secret", s.Address(list, "bob@subs.test", now), other, now, "", ErrBadMAC},
		{"another list's address", strings.Replace(s.Address("ops@lists.test", "bob@subs.test", now), "ops-", "team-", 1), s, now, "", ErrBadMAC},
		{"old unsigned VERP", "team-bounces+bob=subs.test@lists.test", s, now, "", ErrNoVERP},
		{"unsigned, tag-sized", "team-bounces+aaaaaaaaaaaaa-bob=subs.test@lists.test", s, now, "", ErrBadMAC},
		{"short form for a non-member", s.Address(list, long, now), s, now, "", ErrBadMAC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.verify.Verify(list, ext(t, tc.addr), tc.at, members)
			if got != tc.want || !errors.Is(err, tc.err) {
				t.Fatalf("Verify(%s) = %q %v, want %q %v", tc.addr, got, err, tc.want, tc.err)
			}
		})
	}
	// A MAC made for one member does not verify for another.
	a := ext(t, s.Address(list, "bob@subs.test", now))
	forged := strings.Replace(a, "bob=", "ann=", 1)
	if got, err := s.Verify(list, forged, now, members); !errors.Is(err, ErrBadMAC) {
		t.Fatalf("bob's MAC for ann: %q %v", got, err)
	}
}

func TestVERPFitsAndFallsBack(t *testing.T) {
	s := testSecret(t, 1)
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	const list = "team@lists.test"
	long := strings.Repeat("x", 40) + "@subs.test"
	for _, tc := range []struct {
		name, list, rcpt string
		short, plain     bool
	}{
		{"long form", list, "bob@subs.test", false, false},
		{"too long for the long form", list, long, true, false},
		{"member with +", list, "ann+tag@subs.test", true, false},
		{"list name too long for any tag", strings.Repeat("l", 50) + "@lists.test", "bob@subs.test", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := s.Address(tc.list, tc.rcpt, now)
			if l := len(listaddr.LocalPart(a)); l > 64 {
				t.Fatalf("%s: local part of %d octets", a, l)
			}
			if tc.plain {
				if a != listaddr.Address(tc.list, listaddr.SubBounces) {
					t.Fatalf("Address = %s, want the plain bounce address", a)
				}
				return
			}
			e := ext(t, a)
			if tc.short != (len(e) == tagLen) {
				t.Fatalf("Address = %s (short form %v)", a, len(e) == tagLen)
			}
			members := func() ([]string, error) { return []string{"ann@subs.test", tc.rcpt, "zed@subs.test"}, nil }
			if got, err := s.Verify(tc.list, e, now, members); got != strings.ToLower(tc.rcpt) || err != nil {
				t.Fatalf("Verify(%s) = %q %v", a, got, err)
			}
			if tc.short {
				if got, err := s.Verify(tc.list, e, now, func() ([]string, error) { return []string{"ann@subs.test"}, nil }); !errors.Is(err, ErrBadMAC) {
					t.Fatalf("short form verified for a non-member: %q %v", got, err)
				}
			}
		})
	}
}

func TestSecretFile(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "bounce-secret")
	a, err := OpenSecret(p) // created on first use
	if err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(p)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("secret file: %v %v", st, err)
	}
	b, err := OpenSecret(p) // the same one next time
	if err != nil || string(a.key) != string(b.key) {
		t.Fatalf("second open: %v", err)
	}
	if err := CreateSecret(p); !errors.Is(err, os.ErrExist) {
		t.Fatalf("CreateSecret over an existing one: %v", err)
	}
	if err := os.Chmod(p, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecret(p); err == nil {
		t.Fatal("a secret others can read was loaded")
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("nothex\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadSecret(bad); err == nil {
		t.Fatal("garbage loaded as a secret")
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 2 {
		t.Fatalf("temp files left: %v", ents)
	}
}
