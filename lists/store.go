package lists

import (
	"fmt"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"cloister/internal/boltfile"
)

// DefaultTimeout is how long View and Update wait for the database lock.
const DefaultTimeout = 30 * time.Second

// schemaVersion is written to the meta bucket; Open refuses newer files.
const schemaVersion = 1

// Bucket names at the top level of the database.
var (
	bucketMeta    = []byte("meta")
	bucketLists   = []byte("lists")   // list address -> JSON List
	bucketMembers = []byte("members") // list address -> bucket: lower-cased address -> JSON Member
	bucketHeld    = []byte("held")    // held ID -> JSON Held
	bucketTokens  = []byte("tokens")  // token value -> JSON Token
	// key request ID -> JSON KeyRequest
	bucketKeyRequests = []byte("keyrequests")
	keyVersion        = []byte("version")
)

// Store is the handle on one cloister.db file. It holds only the path and
// options: every View or Update opens the file, runs one transaction and
// closes it (see the package comment). Set its fields before sharing it
// between goroutines; a Store is then safe for concurrent use.
type Store struct {
	// Path is the bbolt file; the lock file is Path + ".lock".
	Path string
	// Timeout bounds the wait for the lock of each View or Update
	// (DefaultTimeout when Open returns).
	Timeout time.Duration
	// IndexPath, when not empty, is the lists.idx file that Update rewrites
	// (under the exclusive lock) after every transaction that created or
	// deleted a list.
	IndexPath string
	// IndexCopies are further files that get the same contents as IndexPath,
	// rewritten with it, world-readable (the MTA's list file, e.g. for
	// Exim's lsearch: config's mta_lists_file).
	IndexCopies []string
	// Domains, when not empty, are the mail domains lists may be created
	// in: CreateList refuses a list in any other domain with ErrDomain.
	Domains []string
	// Now is the clock used for creation times, token and held expiry
	// (time.Now when Open returns; tests replace it).
	Now func() time.Time
}

// Open returns a Store for the file at path, creating the file and its
// buckets if missing. It does not keep the file open.
func Open(path string) (*Store, error) {
	s := &Store{Path: path, Timeout: DefaultTimeout, Now: time.Now}
	err := s.Update(func(tx *Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketLists, bucketMembers, bucketHeld, bucketTokens, bucketKeyRequests} {
			if _, err := tx.btx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.btx.Bucket(bucketMeta)
		if v := meta.Get(keyVersion); v != nil {
			n, err := strconv.Atoi(string(v))
			if err != nil {
				return fmt.Errorf("schema version %q: %w", v, err)
			}
			if n > schemaVersion {
				return fmt.Errorf("schema version %d is newer than this program's %d", n, schemaVersion)
			}
			return nil
		}
		return meta.Put(keyVersion, []byte(strconv.Itoa(schemaVersion)))
	})
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return s, nil
}

// View runs fn in a read-only transaction under a shared lock.
func (s *Store) View(fn func(*Tx) error) error {
	return s.run(false, fn)
}

// Update runs fn in a read-write transaction under the exclusive lock and
// commits it if fn returns nil.
func (s *Store) Update(fn func(*Tx) error) error {
	return s.run(true, fn)
}

func (s *Store) now() time.Time {
	if s.Now == nil {
		return time.Now()
	}
	return s.Now()
}

func (s *Store) timeout() time.Duration {
	if s.Timeout <= 0 {
		return DefaultTimeout
	}
	return s.Timeout
}

// run is one unit of work: lock, open, one transaction, close, unlock.
func (s *Store) run(write bool, fn func(*Tx) error) error {
	return s.withDB(write, !write, func(db *bolt.DB) error {
		tx := &Tx{now: s.now(), domains: s.Domains}
		var err error
		if write {
			err = db.Update(func(btx *bolt.Tx) error {
				tx.btx = btx
				return fn(tx)
			})
		} else {
			err = db.View(func(btx *bolt.Tx) error {
				tx.btx = btx
				return fn(tx)
			})
		}
		if err != nil {
			return err
		}
		if tx.listsChanged && s.IndexPath != "" {
			return writeIndex(db, s.IndexPath, s.IndexCopies...)
		}
		return nil
	})
}

// withDB takes the lock (exclusive or shared), opens the database
// (read-only or not), calls fn, then closes the database and drops the lock
// (see cloister/internal/boltfile).
func (s *Store) withDB(exclusive, readOnly bool, fn func(*bolt.DB) error) error {
	return boltfile.File{Path: s.Path, Timeout: s.timeout()}.With(exclusive, readOnly, fn)
}

// Tx is one transaction, valid only inside the function given to View or
// Update. Methods that write fail in a View.
type Tx struct {
	btx          *bolt.Tx
	now          time.Time
	listsChanged bool
	domains      []string
}

// Now is the time the transaction started (from Store.Now).
func (tx *Tx) Now() time.Time { return tx.now }
