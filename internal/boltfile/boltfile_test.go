package boltfile

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// TestLocking holds one unit of work and tries another inside it: exclusive
// work excludes everything, shared work shares.
func TestLocking(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.db")
	f := File{Path: path}
	if err := f.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	other := File{Path: path, Timeout: 100 * time.Millisecond}
	tests := []struct {
		name      string
		hold, try func(func(*bolt.Tx) error) error
		wantBlock bool
	}{
		{"update blocks update", f.Update, other.Update, true},
		{"update blocks view", f.Update, other.View, true},
		{"view blocks update", f.View, other.Update, true},
		{"views share", f.View, other.View, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var inner error
			if err := tt.hold(func(*bolt.Tx) error {
				inner = tt.try(func(*bolt.Tx) error { return nil })
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if tt.wantBlock != errors.Is(inner, ErrLockTimeout) {
				t.Fatalf("inner = %v, want blocked %v", inner, tt.wantBlock)
			}
		})
	}
}

// TestViewMissing checks that a read of a missing file says so and creates
// nothing but the lock file.
func TestViewMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none.db")
	err := File{Path: path}.View(func(*bolt.Tx) error { return nil })
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("View of a missing file = %v, want ErrNotExist", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("View created the database: %v", err)
	}
}

// TestLockFileMode checks the lock file is private.
func TestLockFileMode(t *testing.T) {
	path := filepath.Join(t.TempDir(), "m.db")
	if err := (File{Path: path}).Update(func(*bolt.Tx) error { return nil }); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{path, LockPath(path)} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v, want 0600", p, fi.Mode().Perm())
		}
	}
}
