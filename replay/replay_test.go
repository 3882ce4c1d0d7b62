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
		prev, err := s.Check(tt.id, tt.entry, tt.context, now)
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
	if _, err := s.Check("", "e9", "post", now); err == nil {
		t.Fatal("an empty identity was accepted")
	}
}

// TestBounded: at most Max records are kept (the oldest go first), and
// records older than the window are forgotten.
func TestBounded(t *testing.T) {
	s := &Store{Path: filepath.Join(t.TempDir(), FileName), Max: 50, Window: time.Hour}
	now := time.Unix(1_800_000_000, 0)
	for i := 0; i < s.Max+10; i++ {
		if prev, err := s.Check(fmt.Sprintf("id%d", i), fmt.Sprintf("e%d", i), "post", now.Add(time.Duration(i)*time.Second)); err != nil || prev != nil {
			t.Fatalf("%d: %v %v", i, prev, err)
		}
	}
	if n, err := s.Len(); err != nil || n != s.Max {
		t.Fatalf("%d records kept (%v), want %d", n, err, s.Max)
	}
	later := now.Add(time.Duration(s.Max+10) * time.Second)
	if prev, _ := s.Check(fmt.Sprintf("id%d", s.Max+9), "other", "post", later); prev == nil {
		t.Fatal("a kept record was not seen")
	}
	if prev, _ := s.Check("id0", "other", "post", later); prev != nil {
		t.Fatal("a record beyond the bound still counted")
	}
	if prev, _ := s.Check(fmt.Sprintf("id%d", s.Max+8), "other", "post", later.Add(2*time.Hour)); prev != nil {
		t.Fatal("a record older than the window still counted")
	}
	if n, _ := s.Len(); n != 1 {
		t.Fatalf("%d records after the window passed, want only the one just made", n)
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
			prev, err := s.Check("pgp:same", fmt.Sprintf("e%d", i), "post", now)
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
		if _, err := s.Check(fmt.Sprintf("pgp:%064d", i), fmt.Sprintf("e%d", i), "post to team@lists.test", now); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := s.Check(fmt.Sprintf("new%d", i), fmt.Sprintf("n%d", i), "post to team@lists.test", now); err != nil {
			b.Fatal(err)
		}
	}
}
