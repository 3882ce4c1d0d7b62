// Package boltfile runs one unit of work on a bbolt file shared by several
// processes: take a flock on a sidecar lock file with a time-out, open the
// database, run, close, unlock. No process keeps the file open while idle.
//
// bbolt allows one read-write opener at a time and waits for its own lock by
// polling every 50 ms, so under steady contention a poller keeps losing to
// processes that re-take the lock between its polls. Processes blocked in
// flock(2) on the sidecar (<db>.lock) are woken by the kernel as soon as the
// lock is released instead. Exclusive units of work exclude everything else;
// shared ones (read-only opens) run together. bbolt's own lock on the database
// file is then uncontended among users of this package; it still guards
// against foreign openers such as the bbolt CLI. The lists package documents
// the measurements behind this choice.
package boltfile

import (
	"errors"
	"fmt"
	"os"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrLockTimeout is returned when the lock could not be taken within the
// time-out. It is a temporary condition: the caller may retry later.
var ErrLockTimeout = errors.New("database lock time-out")

// File is one bbolt file and how long a unit of work waits for its lock.
// The zero Timeout means DefaultTimeout.
type File struct {
	// Path is the bbolt file; the lock file is Path + ".lock".
	Path string
	// Timeout bounds the wait for the lock of each unit of work.
	Timeout time.Duration
}

// DefaultTimeout is how long a unit of work waits for the lock when
// File.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// LockPath returns the sidecar lock file of the database at path.
func LockPath(path string) string { return path + ".lock" }

func (f File) timeout() time.Duration {
	if f.Timeout <= 0 {
		return DefaultTimeout
	}
	return f.Timeout
}

// With takes the lock (exclusive or shared), opens the database (read-only
// or not), calls fn, then closes the database and drops the lock. A
// read-only open of a missing file fails with an error wrapping
// os.ErrNotExist (bbolt cannot create a file read-only). Files are created
// with mode 0600.
func (f File) With(exclusive, readOnly bool, fn func(*bolt.DB) error) (err error) {
	start := time.Now()
	lock, err := Lock(LockPath(f.Path), exclusive, f.timeout())
	if err != nil {
		return err
	}
	defer lock.Close()
	if readOnly {
		if _, err := os.Stat(f.Path); err != nil {
			return fmt.Errorf("database: %w", err)
		}
	}
	// bbolt's own lock is uncontended among File users; foreign openers get
	// what is left of the budget.
	left := max(f.timeout()-time.Since(start), time.Second)
	db, err := bolt.Open(f.Path, 0o600, &bolt.Options{Timeout: left, ReadOnly: readOnly})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return fmt.Errorf("open %s: %w", f.Path, ErrLockTimeout)
		}
		return fmt.Errorf("open %s: %w", f.Path, err)
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("close %s: %w", f.Path, cerr)
		}
	}()
	return fn(db)
}

// View runs fn in a read-only transaction under a shared lock.
func (f File) View(fn func(*bolt.Tx) error) error {
	return f.With(false, true, func(db *bolt.DB) error { return db.View(fn) })
}

// Update runs fn in a read-write transaction under the exclusive lock and
// commits it if fn returns nil.
func (f File) Update(fn func(*bolt.Tx) error) error {
	return f.With(true, false, func(db *bolt.DB) error { return db.Update(fn) })
}
