package lists

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// testStore opens a fresh store in a temp dir with a fixed clock.
func testStore(t *testing.T) (*Store, *time.Time) {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "cloister.db"))
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	return s, &now
}

// mustUpdate runs fn in an Update and fails the test on error.
func mustUpdate(t *testing.T, s *Store, fn func(*Tx) error) {
	t.Helper()
	if err := s.Update(fn); err != nil {
		t.Fatal(err)
	}
}

// createList makes a list with default settings.
func createList(t *testing.T, s *Store, addr string) {
	t.Helper()
	mustUpdate(t, s, func(tx *Tx) error {
		l, err := NewList(addr, tx.Now())
		if err != nil {
			return err
		}
		return tx.CreateList(l)
	})
}

func TestOpenIsIdempotentAndClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cloister.db")
	for range 2 {
		if _, err := Open(path); err != nil {
			t.Fatal(err)
		}
	}
	// Nothing is left open or locked: an Update with a 10 ms time-out
	// succeeds.
	s := &Store{Path: path, Timeout: 10 * time.Millisecond}
	if err := s.Update(func(*Tx) error { return nil }); err != nil {
		t.Fatalf("store left locked after Open: %v", err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("database mode: %v %v", fi, err)
	}
}

func TestViewOfMissingFile(t *testing.T) {
	s := &Store{Path: filepath.Join(t.TempDir(), "none.db")}
	err := s.View(func(*Tx) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("View of a missing file = %v, want ErrNotExist", err)
	}
}

func TestViewCannotWrite(t *testing.T) {
	s, _ := testStore(t)
	err := s.View(func(tx *Tx) error {
		l, _ := NewList("team@lists.example.test", tx.Now())
		return tx.CreateList(l)
	})
	if err == nil {
		t.Fatal("CreateList inside View succeeded")
	}
}

func TestUpdateRollsBackOnError(t *testing.T) {
	s, _ := testStore(t)
	boom := errors.New("boom")
	err := s.Update(func(tx *Tx) error {
		l, _ := NewList("team@lists.example.test", tx.Now())
		if err := tx.CreateList(l); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want boom", err)
	}
	err = s.View(func(tx *Tx) error {
		_, err := tx.List("team@lists.example.test")
		return err
	})
	if !errors.Is(err, ErrNoList) {
		t.Fatalf("list exists after a failed Update: %v", err)
	}
}

// TestLockTimeout holds the exclusive lock and checks that another Update
// and a View give up with ErrLockTimeout, and that readers share.
func TestLockTimeout(t *testing.T) {
	s, _ := testStore(t)
	other := &Store{Path: s.Path, Timeout: 200 * time.Millisecond}
	tests := []struct {
		name      string
		hold      func(fn func(*Tx) error) error
		try       func(fn func(*Tx) error) error
		wantBlock bool
	}{
		{"update blocks update", s.Update, other.Update, true},
		{"update blocks view", s.Update, other.View, true},
		{"view blocks update", s.View, other.Update, true},
		{"views share", s.View, other.View, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inner error
			err := tt.hold(func(*Tx) error {
				inner = tt.try(func(*Tx) error { return nil })
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
			if tt.wantBlock != errors.Is(inner, ErrLockTimeout) {
				t.Fatalf("inner unit of work = %v, want blocked %v", inner, tt.wantBlock)
			}
		})
	}
	// After the time-outs the lock is free again.
	if err := other.Update(func(*Tx) error { return nil }); err != nil {
		t.Fatalf("lock not released after time-outs: %v", err)
	}
}

// TestLockWaits checks that a unit of work waits for the lock rather than
// failing when the holder finishes within the time-out.
func TestLockWaits(t *testing.T) {
	s, _ := testStore(t)
	createList(t, s, "team@lists.example.test")
	held := make(chan struct{})
	release := make(chan struct{})
	done := make(chan error)
	go func() {
		done <- s.Update(func(tx *Tx) error {
			close(held)
			<-release
			return tx.AddMember("team@lists.example.test", &Member{Address: "ann@subs.test"})
		})
	}()
	<-held
	waited := make(chan error)
	go func() {
		waited <- s.View(func(tx *Tx) error {
			_, err := tx.Member("team@lists.example.test", "ann@subs.test")
			return err
		})
	}()
	close(release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if err := <-waited; err != nil {
		t.Fatalf("View that waited for the writer: %v", err)
	}
}
