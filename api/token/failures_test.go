package token

import (
	"slices"
	"testing"
	"time"
)

// TestFailuresKeptBoundedAndExpire: failed authentications are read back
// by another Store on the same database (a restarted daemon), without the
// ones past the window; a client with none is forgotten; and past the cap
// the expired clients, then the oldest, are dropped.
func TestFailuresKeptBoundedAndExpire(t *testing.T) {
	s, now := newStore(t)
	const window = time.Minute
	t0 := *now
	if err := s.SetFailures("uid:1000", []time.Time{t0.Add(-2 * window), t0.Add(-time.Second), t0}, window); err != nil {
		t.Fatal(err)
	}
	again := Open(s.File.Path)
	again.Now = s.Now
	got, err := again.Failures(window)
	if err != nil {
		t.Fatal(err)
	}
	if want := []time.Time{t0.Add(-time.Second), t0}; !slices.EqualFunc(got["uid:1000"], want, time.Time.Equal) || len(got) != 1 {
		t.Fatalf("read back %v, want uid:1000 %v", got, want)
	}
	*now = t0.Add(2 * window)
	if got, _ := again.Failures(window); len(got) != 0 {
		t.Fatalf("failures past the window still count: %v", got)
	}
	*now = t0
	if err := s.SetFailures("uid:1000", nil, window); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Failures(window); len(got) != 0 {
		t.Fatalf("a forgotten client is kept: %v", got)
	}

	old := maxFailureClients
	maxFailureClients = 3
	defer func() { maxFailureClients = old }()
	steps := []struct {
		client string
		at     time.Duration
	}{
		{"ip:10.0.0.1", -2 * window}, // expired by the time the cap is passed
		{"ip:10.0.0.2", -30 * time.Second},
		{"ip:10.0.0.3", -20 * time.Second},
		{"ip:10.0.0.4", -10 * time.Second},
		{"ip:10.0.0.5", 0}, // past the cap: .1 (expired) and .2 (oldest) go
	}
	for _, st := range steps {
		if err := s.SetFailures(st.client, []time.Time{t0.Add(st.at)}, window); err != nil {
			t.Fatal(err)
		}
	}
	got, err = s.Failures(10 * window)
	if err != nil {
		t.Fatal(err)
	}
	var clients []string
	for c := range got {
		clients = append(clients, c)
	}
	slices.Sort(clients)
	if want := []string{"ip:10.0.0.3", "ip:10.0.0.4", "ip:10.0.0.5"}; !slices.Equal(clients, want) {
		t.Fatalf("kept %v, want %v", clients, want)
	}
}
