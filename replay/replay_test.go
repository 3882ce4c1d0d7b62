package replay

import (
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// TestCheck: a signature is new once; another entry carrying it is a
// replay whatever the context, and the sighting says where it was first
// seen; the same entry again (a retry after a crash) is not a replay.
func TestCheck(t *testing.T) {
	s := ForSite(t.TempDir())
	now := time.Unix(1_800_000_000, 0)
	tests := []struct {
		id, entry, context string
		wantPrev           string // context of the earlier sighting, "" for new
	}{
		{"pgp:aa", "e1", "post to team@lists.test", ""},
		{"pgp:aa", "e1", "post to team@lists.test", ""}, // retry of the same entry
		{"pgp:aa", "e2", "post to team@lists.test", "post to team@lists.test"},
		{"pgp:aa", "e3", "command to other-request@lists.test", "post to team@lists.test"},
		{"pgp:bb", "e3", "command to other-request@lists.test", ""},
		{"pgp:bb", "e4", "post to team@lists.test", "command to other-request@lists.test"},
		{"cms:aa", "e5", "post to team@lists.test", ""},
	}
	for i, tt := range tests {
		prev, err := s.Check(tt.id, tt.entry, tt.context, time.Time{}, now)
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		if prev != nil {
			got = prev.Context
		}
		if got != tt.wantPrev {
			t.Fatalf("%d: Check(%s, %s) earlier sighting %q, want %q", i, tt.id, tt.entry, got, tt.wantPrev)
		}
	}
	if _, err := s.Check("", "e9", "post", time.Time{}, now); err == nil {
		t.Fatal("an empty identity was accepted")
	}
}

// TestBounded: at most Max records are kept (the oldest go first), and
// records older than the window are forgotten.
func TestBounded(t *testing.T) {
	s := &Store{Path: filepath.Join(t.TempDir(), FileName), Max: 50, Window: time.Hour}
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < s.Max+10; i++ {
		if prev, err := s.Check(fmt.Sprintf("id%d", i), fmt.Sprintf("e%d", i), "post", time.Time{}, now.Add(time.Duration(i)*time.Second)); err != nil || prev != nil {
			t.Fatalf("%d: %v %v", i, prev, err)
		}
	}
	if n, err := s.Len(); err != nil || n != s.Max {
		t.Fatalf("%d records kept (%v), want %d", n, err, s.Max)
	}
	later := now.Add(time.Duration(s.Max+10) * time.Second)
	if prev, _ := s.Check(fmt.Sprintf("id%d", s.Max+9), "other", "post", time.Time{}, later); prev == nil {
		t.Fatal("a kept record was not seen")
	}
	if prev, _ := s.Check("id0", "other", "post", time.Time{}, later); prev != nil {
		t.Fatal("a record beyond the bound still counted")
	}
	if prev, _ := s.Check(fmt.Sprintf("id%d", s.Max+8), "other", "post", time.Time{}, later.Add(2*time.Hour)); prev != nil {
		t.Fatal("a record older than the window still counted")
	}
	if n, _ := s.Len(); n != 1 {
		t.Fatalf("%d records after the window passed, want only the one just made", n)
	}
}

// TestForgotten: once the store has forgotten records (by window or by
// bound), a signature dated before them, less Skew, counts as seen, while a
// newer one and one without a date are new.
func TestForgotten(t *testing.T) {
	now := time.Unix(1_800_000_000, 0)
	for _, tc := range []struct {
		name   string
		store  *Store
		record []time.Time // when each earlier signature was recorded
		at     time.Time   // when the checked one arrives
	}{
		{"window", &Store{Window: 24 * time.Hour}, []time.Time{now}, now.Add(30 * 24 * time.Hour)},
		{"bound", &Store{Max: 2}, []time.Time{now, now.Add(time.Hour), now.Add(2 * time.Hour)}, now.Add(3 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.store.Path = filepath.Join(t.TempDir(), FileName)
			for i, at := range tc.record {
				if prev, err := tc.store.Check(fmt.Sprintf("old%d", i), fmt.Sprintf("e%d", i), "post", at, at); err != nil || prev != nil {
					t.Fatalf("record %d: %v %v", i, prev, err)
				}
			}
			if _, err := tc.store.Check("trigger", "t", "post", tc.at, tc.at); err != nil {
				t.Fatal(err)
			}
			for _, c := range []struct {
				name      string
				signed    time.Time
				forgotten bool
			}{
				{"dated when the first was seen", now, true},
				{"dated within the skew after it", now.Add(Skew - time.Minute), true},
				{"dated after the skew", now.Add(Skew + time.Hour), false},
				{"undated", time.Time{}, false},
			} {
				prev, err := tc.store.Check("new "+c.name, "n "+c.name, "post", c.signed, tc.at)
				if err != nil {
					t.Fatal(err)
				}
				if got := prev != nil && prev.Forgotten; got != c.forgotten {
					t.Errorf("%s: forgotten %v, want %v (%+v)", c.name, got, c.forgotten, prev)
				}
			}
		})
	}
}

// TestConcurrentChecks: checks from many goroutines (each a unit of work
// under the file lock, as from several runner processes) agree: of the
// entries carrying one signature, exactly one is new.
func TestConcurrentChecks(t *testing.T) {
	s := ForSite(t.TempDir())
	now := time.Unix(1_800_000_000, 0)
	var wg sync.WaitGroup
	var mu sync.Mutex
	fresh := 0
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			prev, err := s.Check("pgp:same", fmt.Sprintf("e%d", i), "post", time.Time{}, now)
			if err != nil {
				t.Error(err)
				return
			}
			if prev == nil {
				mu.Lock()
				fresh++
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	if fresh != 1 {
		t.Fatalf("%d entries took the signature for new, want 1", fresh)
	}
}

// BenchmarkCheck measures one check against a store of 20,000 records (each
// signed post or command mail pays one).
func BenchmarkCheck(b *testing.B) {
	s := ForSite(b.TempDir())
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < 20000; i++ {
		if _, err := s.Check(fmt.Sprintf("pgp:%064d", i), fmt.Sprintf("e%d", i), "post to team@lists.test", time.Time{}, now); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Check(fmt.Sprintf("new%d", i), fmt.Sprintf("n%d", i), "post to team@lists.test", time.Time{}, now); err != nil {
			b.Fatal(err)
		}
	}
}
