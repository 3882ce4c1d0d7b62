package api

import (
	"path/filepath"
	"testing"
	"time"

	"cloister/api/token"
)

// TestLimiter fails one client past the threshold and checks that it alone
// is refused, and is let in again once its failures leave the window.
func TestLimiter(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l := &Limiter{Failures: 3, Window: time.Minute, Now: func() time.Time { return now }}
	steps := []struct {
		name    string
		advance time.Duration
		fail    string
		client  string
		blocked bool
	}{
		{"fresh client", 0, "", "uid:1000", false},
		{"one failure", 0, "uid:1000", "uid:1000", false},
		{"two failures", time.Second, "uid:1000", "uid:1000", false},
		{"three failures", time.Second, "uid:1000", "uid:1000", true},
		{"other client unaffected", 0, "", "uid:1001", false},
		{"still blocked", 50 * time.Second, "", "uid:1000", true},
		{"first failure left the window", 8 * time.Second, "", "uid:1000", false},
		{"a failure blocks again", 0, "uid:1000", "uid:1000", true},
		{"all left the window", 2 * time.Minute, "", "uid:1000", false},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		if st.fail != "" {
			l.Fail(st.fail)
		}
		if got, _ := l.Blocked(st.client); got != st.blocked {
			t.Fatalf("%s: Blocked(%s) = %v, want %v", st.name, st.client, got, st.blocked)
		}
	}
}

// TestLimiterStoreOutlivesRestart: a limiter over a store blocks a client
// that failed past the threshold under an earlier limiter (a restarted
// daemon), until its failures leave the window.
func TestLimiterStoreOutlivesRestart(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	clock := func() time.Time { return now }
	store := token.Open(filepath.Join(t.TempDir(), "cloister.db"))
	store.Now = clock
	first := &Limiter{Failures: 3, Window: time.Minute, Now: clock, Store: store}
	for range 3 {
		if err := first.Fail("ip:192.0.2.1"); err != nil {
			t.Fatal(err)
		}
	}
	for _, st := range []struct {
		name    string
		advance time.Duration
		client  string
		blocked bool
	}{
		{"after the restart", time.Second, "ip:192.0.2.1", true},
		{"another client", 0, "ip:192.0.2.2", false},
		{"the failures left the window", time.Minute, "ip:192.0.2.1", false},
	} {
		now = now.Add(st.advance)
		restarted := &Limiter{Failures: 3, Window: time.Minute, Now: clock, Store: store}
		if err := restarted.Load(); err != nil {
			t.Fatal(err)
		}
		if got, _ := restarted.Blocked(st.client); got != st.blocked {
			t.Errorf("%s: Blocked(%s) = %v, want %v", st.name, st.client, got, st.blocked)
		}
	}
}
