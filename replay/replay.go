// Package replay remembers, for the whole site, the signatures that
// authenticated a post or a command, so that each is counted once (security
// invariant 4): a signature seen in one context (a post to one list, a command
// to another) is refused in every other. Signatures are named by the replay
// identity the verifiers compute (mimecrypt.Result.SignatureID: what was
// signed and by whom, not how it is encoded).
//
// The store is one bbolt file in the state directory, changed in one
// transaction per check under internal/boltfile's exclusive lock, so several
// runner processes agree; bbolt's commit is durable (fsync) before Check
// returns. Records are kept for a window and their number is bounded; the
// oldest go first.
package replay

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"

	"cloister/internal/boltfile"
)

// FileName is the store's file in the state directory (and in backups).
const FileName = "replay.db"

// Path returns the store's file in a site's state directory.
func Path(stateDir string) string { return filepath.Join(stateDir, FileName) }

// DefaultWindow is how long a signature is remembered: longer than the
// longest signed_command_max_age_days a list may set (365 days), with a
// margin for clocks and queues, so that no signed command still young enough
// to be obeyed is forgotten.
const DefaultWindow = 400 * 24 * time.Hour

// DefaultMax bounds the records kept (about 150 bytes each on disk).
const DefaultMax = 200000

// Skew is how far a signer's clock may run ahead: a signature dated less
// than this after the store's horizon may still have been seen before it.
const Skew = 48 * time.Hour

var (
	bucketSigs  = []byte("signatures") // identity -> record (JSON)
	bucketOrder = []byte("order")      // 8-byte big-endian unix nanoseconds + identity -> nothing
	bucketMeta  = []byte("meta")       // "horizon" -> 8-byte big-endian unix nanoseconds
	keyHorizon  = []byte("horizon")
)

// Sighting is where and when a signature was first seen. Forgotten
// sightings stand for signatures dated before what the store still
// remembers: they may have been seen, so they count as seen.
type Sighting struct {
	// Entry is the queue entry id that carried it.
	Entry string `json:"entry"`
	// Context says where, e.g. "post to team@lists.test".
	Context string `json:"context"`
	// At is when it was recorded.
	At time.Time `json:"at"`
	// Forgotten says the signature is older than the store's memory (its
	// window, or records dropped for the bound); Entry and Context are empty.
	Forgotten bool `json:"-"`
}

// Store is the site's replay store.
type Store struct {
	// Path is the bbolt file (Path(stateDir) for a site).
	Path string
	// Window is how long records are kept (DefaultWindow if zero).
	Window time.Duration
	// Max bounds the records kept (DefaultMax if zero).
	Max int
	// Timeout bounds the wait for the lock (boltfile.DefaultTimeout if zero).
	Timeout time.Duration
}

// ForSite returns the store of the site whose state directory is stateDir.
func ForSite(stateDir string) *Store { return &Store{Path: Path(stateDir)} }

// Check records that entry carried the signature id in context at now, and
// returns the earlier sighting when another entry carried it before (a
// replay), or nil. The same entry checked again (a retry after a crash, or a
// post coming back from moderation) is not a replay. signed is when the
// signer says it signed (zero if unknown): a signature dated before the
// store's horizon (what it forgot, by window or bound), less Skew, may have
// been seen and is returned as a Forgotten sighting. An empty id is an
// error: the caller has no identity to count.
func (s *Store) Check(id, entry, context string, signed, now time.Time) (*Sighting, error) {
	if id == "" {
		return nil, fmt.Errorf("replay store: empty signature identity")
	}
	window, max := s.Window, s.Max
	if window <= 0 {
		window = DefaultWindow
	}
	if max <= 0 {
		max = DefaultMax
	}
	var prev *Sighting
	err := boltfile.File{Path: s.Path, Timeout: s.Timeout}.Update(func(tx *bolt.Tx) error {
		sigs, err := tx.CreateBucketIfNotExists(bucketSigs)
		if err != nil {
			return err
		}
		order, err := tx.CreateBucketIfNotExists(bucketOrder)
		if err != nil {
			return err
		}
		meta, err := tx.CreateBucketIfNotExists(bucketMeta)
		if err != nil {
			return err
		}
		horizon := readHorizon(meta)
		if h, err := expire(sigs, order, now.Add(-window)); err != nil {
			return err
		} else if h.After(horizon) {
			horizon = h
		}
		if v := sigs.Get([]byte(id)); v != nil {
			var old Sighting
			if err := json.Unmarshal(v, &old); err != nil {
				return fmt.Errorf("record of %s: %w", id, err)
			}
			if old.Entry != entry {
				prev = &old
			}
			return writeHorizon(meta, horizon)
		}
		if !signed.IsZero() && signed.Before(horizon.Add(Skew)) {
			prev = &Sighting{At: horizon, Forgotten: true}
			return writeHorizon(meta, horizon)
		}
		rec, err := json.Marshal(Sighting{Entry: entry, Context: context, At: now.UTC()})
		if err != nil {
			return err
		}
		if err := sigs.Put([]byte(id), rec); err != nil {
			return err
		}
		if err := order.Put(orderKey(now, id), nil); err != nil {
			return err
		}
		n := order.Sequence() + 1
		for ; n > uint64(max); n-- {
			k, _ := order.Cursor().First()
			if k == nil {
				break
			}
			if at := keyTime(k); at.After(horizon) {
				horizon = at
			}
			if err := drop(sigs, order, k); err != nil {
				return err
			}
		}
		if err := order.SetSequence(n); err != nil {
			return err
		}
		return writeHorizon(meta, horizon)
	})
	if err != nil {
		return nil, fmt.Errorf("replay store %s: %w", s.Path, err)
	}
	return prev, nil
}

// Len returns the number of records kept.
func (s *Store) Len() (int, error) {
	n := 0
	err := boltfile.File{Path: s.Path, Timeout: s.Timeout}.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketSigs); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("replay store %s: %w", s.Path, err)
	}
	return n, nil
}

// expire drops the records older than before and returns the time of the
// newest one dropped (zero when none was).
func expire(sigs, order *bolt.Bucket, before time.Time) (time.Time, error) {
	c := order.Cursor()
	n := order.Sequence()
	var old [][]byte
	for k, _ := c.First(); len(k) >= 8 && keyTime(k).Before(before); k, _ = c.Next() {
		old = append(old, append([]byte(nil), k...))
	}
	var newest time.Time
	for _, k := range old {
		if at := keyTime(k); at.After(newest) {
			newest = at
		}
		if err := drop(sigs, order, k); err != nil {
			return time.Time{}, err
		}
		if n > 0 {
			n--
		}
	}
	return newest, order.SetSequence(n)
}

// keyTime reads the time of an order key.
func keyTime(k []byte) time.Time {
	if len(k) < 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(k[:8])))
}

// readHorizon returns the time of the newest record the store dropped.
func readHorizon(meta *bolt.Bucket) time.Time {
	v := meta.Get(keyHorizon)
	if len(v) != 8 {
		return time.Time{}
	}
	return time.Unix(0, int64(binary.BigEndian.Uint64(v)))
}

func writeHorizon(meta *bolt.Bucket, h time.Time) error {
	if h.IsZero() {
		return nil
	}
	var v [8]byte
	binary.BigEndian.PutUint64(v[:], uint64(h.UnixNano()))
	return meta.Put(keyHorizon, v[:])
}

// drop deletes one record by its order key.
func drop(sigs, order *bolt.Bucket, k []byte) error {
	if err := order.Delete(k); err != nil {
		return err
	}
	if len(k) > 8 {
		return sigs.Delete(k[8:])
	}
	return nil
}

func orderKey(at time.Time, id string) []byte {
	k := make([]byte, 8, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(at.UnixNano()))
	return append(k, id...)
}
