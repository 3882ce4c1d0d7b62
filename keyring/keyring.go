package keyring

import (
	"bytes"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"

	"cloister/internal/boltfile"
)

// Kind is the kind of a key: OpenPGP or X.509 (S/MIME).
type Kind string

// Kinds of keys.
const (
	KindPGP  Kind = "pgp"
	KindX509 Kind = "x509"
)

// schemaVersion is written to the meta bucket; Open refuses newer files.
const schemaVersion = 1

// Buckets at the top level of keyring.db.
var (
	bucketMeta     = []byte("meta")
	bucketList     = []byte("list")     // kind NUL list address -> JSON listRecord
	bucketPGP      = []byte("pgp")      // fingerprint -> JSON pgpRecord
	bucketPGPAddr  = []byte("pgpaddr")  // address NUL fingerprint -> empty
	bucketPGPID    = []byte("pgpid")    // 8-byte key ID, fingerprint -> empty
	bucketX509     = []byte("x509")     // SHA-256 fingerprint -> JSON certRecord
	bucketX509Addr = []byte("x509addr") // address NUL fingerprint -> empty
	allBuckets     = [][]byte{bucketMeta, bucketList, bucketPGP, bucketPGPAddr, bucketPGPID, bucketX509, bucketX509Addr}
	keyVersion     = []byte("version")
)

// Keyring is the handle on one keyring.db. Like lists.Store it holds only
// the path: every read or write opens the file, runs one transaction and
// closes it (see the package comment). Reads are served from an in-memory
// snapshot that is reloaded when the generation file says the database
// changed. A Keyring is safe for concurrent use.
type Keyring struct {
	file       boltfile.File
	passphrase []byte
	now        func() time.Time

	mu       sync.Mutex
	snap     *snapshot
	parsed   map[string]*parsedPGP      // fingerprint -> parsed public key
	unlocked map[string]*unlockedRecord // kind NUL list -> unlocked secret
	gen      genFile                    // the generation token
	checks   checks                     // signature checks kept across processes (pgpchecks.go)

	// trust is the S/MIME trust of the site, set by SetTrust.
	trust trust
}

// Options tune Open. The zero value is fine.
type Options struct {
	// Timeout bounds the wait for the database lock (boltfile.DefaultTimeout if zero).
	Timeout time.Duration
	// Now is the clock for creation times and the default judging time (time.Now if nil).
	Now func() time.Time
}

// Open returns the keyring at path, creating the file and its buckets if
// missing. passphrase encrypts and decrypts the lists' private keys; it may
// be nil for a process that never touches them (every operation on a
// private key then fails with ErrNoPassphrase). Open does not keep the file
// open.
func Open(path string, passphrase []byte, opts *Options) (*Keyring, error) {
	k := &Keyring{file: boltfile.File{Path: path}, passphrase: bytes.Clone(passphrase), now: time.Now,
		parsed: map[string]*parsedPGP{}, unlocked: map[string]*unlockedRecord{}}
	k.gen.path = k.genPath()
	if opts != nil {
		k.file.Timeout = opts.Timeout
		if opts.Now != nil {
			k.now = opts.Now
		}
	}
	err := k.update(func(tx *bolt.Tx) error {
		for _, name := range allBuckets {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return fmt.Errorf("create bucket %s: %w", name, err)
			}
		}
		meta := tx.Bucket(bucketMeta)
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
		return nil, fmt.Errorf("open keyring %s: %w", path, err)
	}
	return k, nil
}

// Close releases the generation file the keyring keeps open (keyring.db
// itself is never held open). A closed keyring still works: it reopens the
// file on its next lookup.
func (k *Keyring) Close() error { return k.gen.close() }

// Path returns the keyring's database file.
func (k *Keyring) Path() string { return k.file.Path }

// genPath is the generation file: a random token rewritten (under the
// exclusive lock, before the transaction) by every write.
func (k *Keyring) genPath() string { return k.file.Path + ".gen" }

// update runs fn in one read-write transaction. The generation file gets a
// new token first, so that no reader keeps serving a snapshot older than
// the transaction once it has committed.
func (k *Keyring) update(fn func(*bolt.Tx) error) error {
	return k.file.With(true, false, func(db *bolt.DB) error {
		tok := make([]byte, 16)
		if _, err := rand.Read(tok); err != nil {
			return err
		}
		if err := os.WriteFile(k.genPath(), []byte(hex.EncodeToString(tok)), 0o600); err != nil {
			return fmt.Errorf("write generation: %w", err)
		}
		return db.Update(fn)
	})
}

// view runs fn in one read-only transaction under a shared lock.
func (k *Keyring) view(fn func(*bolt.Tx) error) error {
	return k.file.View(fn)
}

// snapshot is every record of the database as of one generation. Records
// are kept as stored; parsing happens on use and is cached by fingerprint.
type snapshot struct {
	gen      string
	stamp    fileStamp              // of keyring.db when the snapshot was read
	lists    map[string]*listRecord // kind NUL list
	pgp      map[string]*pgpRecord
	pgpAddr  map[string][]string // address -> fingerprints
	pgpID    map[uint64][]string // key ID -> fingerprints
	certs    map[string]*certRecord
	certAddr map[string][]string
}

// current returns a snapshot of the database no older than the last write
// that finished before the call: one small file read when nothing changed,
// one shared-lock transaction otherwise.
func (k *Keyring) current() (*snapshot, error) {
	gen := k.gen.token()
	k.mu.Lock()
	s := k.snap
	k.mu.Unlock()
	if s != nil && len(gen) > 0 && string(gen) == s.gen && k.gen.unchanged(k.file.Path, s.stamp) {
		return s, nil
	}
	s = &snapshot{lists: map[string]*listRecord{}, pgp: map[string]*pgpRecord{}, pgpAddr: map[string][]string{},
		pgpID: map[uint64][]string{}, certs: map[string]*certRecord{}, certAddr: map[string][]string{}}
	err := k.view(func(tx *bolt.Tx) error {
		s.gen = string(k.gen.token())
		s.stamp = stampOf(k.file.Path)
		if err := forEachJSON(tx, bucketList, func(key []byte, r *listRecord) { s.lists[string(key)] = r }); err != nil {
			return err
		}
		if err := forEachJSON(tx, bucketPGP, func(key []byte, r *pgpRecord) { s.pgp[string(key)] = r }); err != nil {
			return err
		}
		if err := forEachJSON(tx, bucketX509, func(key []byte, r *certRecord) { s.certs[string(key)] = r }); err != nil {
			return err
		}
		forEachPair(tx, bucketPGPAddr, func(a, f string) { s.pgpAddr[a] = append(s.pgpAddr[a], f) })
		forEachPair(tx, bucketX509Addr, func(a, f string) { s.certAddr[a] = append(s.certAddr[a], f) })
		if b := tx.Bucket(bucketPGPID); b != nil {
			b.ForEach(func(key, _ []byte) error {
				if len(key) > 8 {
					id := binary.BigEndian.Uint64(key[:8])
					s.pgpID[id] = append(s.pgpID[id], string(key[8:]))
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("read keyring: %w", err)
	}
	k.mu.Lock()
	k.snap = s
	// Drop parsed keys that are gone from the database.
	for fpr, p := range k.parsed {
		if r := s.pgp[fpr]; r == nil || !bytes.Equal(r.Key, p.raw) {
			delete(k.parsed, fpr)
		}
	}
	k.mu.Unlock()
	return s, nil
}

// forEachJSON decodes every value of a bucket.
func forEachJSON[T any](tx *bolt.Tx, bucket []byte, fn func(key []byte, r *T)) error {
	b := tx.Bucket(bucket)
	if b == nil {
		return nil
	}
	return b.ForEach(func(key, v []byte) error {
		r := new(T)
		if err := json.Unmarshal(v, r); err != nil {
			return fmt.Errorf("record %q in %s: %w", key, bucket, err)
		}
		fn(bytes.Clone(key), r)
		return nil
	})
}

// forEachPair walks an index bucket of "address NUL fingerprint" keys.
func forEachPair(tx *bolt.Tx, bucket []byte, fn func(addr, fpr string)) {
	b := tx.Bucket(bucket)
	if b == nil {
		return
	}
	b.ForEach(func(key, _ []byte) error {
		if a, f, ok := strings.Cut(string(key), "\x00"); ok {
			fn(a, f)
		}
		return nil
	})
}

// putJSON stores v as JSON under key.
func putJSON(tx *bolt.Tx, bucket []byte, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Bucket(bucket).Put([]byte(key), b)
}

// getJSON reads the JSON record under key into v; false when missing.
func getJSON(tx *bolt.Tx, bucket []byte, key string, v any) (bool, error) {
	b := tx.Bucket(bucket).Get([]byte(key))
	if b == nil {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("record %q in %s: %w", key, bucket, err)
	}
	return true, nil
}

// listKey is the key of a list's record of one kind.
func listKey(kind Kind, list string) string { return string(kind) + "\x00" + list }

// normAddress lower-cases and trims an address and checks its shape.
func normAddress(a string) (string, error) {
	a = strings.ToLower(strings.TrimSpace(a))
	local, domain, ok := strings.Cut(a, "@")
	if !ok || local == "" || domain == "" || strings.ContainsAny(a, " \t\r\n<>\x00") || len(a) > 254 {
		return "", fmt.Errorf("%q is not a mail address", a)
	}
	return a, nil
}

// unlockedRecord is a list's unlocked secret and the stored bytes (sealed
// secret and public part) it came from, so that a replaced key or
// certificate is read again.
type unlockedRecord struct {
	sealed []byte
	value  any
}
