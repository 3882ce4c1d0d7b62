package token

import (
	"encoding/json"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// failuresBucket holds client -> JSON list of the times of its recent
// failed authentications, so that the API's rate limit outlives a restart
// of the daemon.
var failuresBucket = []byte("api_auth_failures")

// MaxFailureClients bounds the clients whose failures are kept: past it,
// the clients whose failures all left the window are dropped, and then the
// ones whose last failure is oldest.
const MaxFailureClients = 10000

// maxFailureClients is MaxFailureClients (smaller in tests).
var maxFailureClients = MaxFailureClients

// Failures returns every client's failed authentications still within
// window of now (older ones are not returned).
func (s *Store) Failures(window time.Duration) (map[string][]time.Time, error) {
	now := s.now()
	out := map[string][]time.Time{}
	err := s.File.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(failuresBucket)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var ts []time.Time
			if err := json.Unmarshal(v, &ts); err != nil {
				return nil // a damaged entry counts as none
			}
			var keep []time.Time
			for _, t := range ts {
				if now.Sub(t) < window {
					keep = append(keep, t)
				}
			}
			if len(keep) > 0 {
				out[string(k)] = keep
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("read the API's failed authentications: %w", err)
	}
	return out, nil
}

// SetFailures records a client's recent failed authentications (none:
// forgets the client), dropping the clients whose failures are older than
// window when more than MaxFailureClients are kept.
func (s *Store) SetFailures(client string, ts []time.Time, window time.Duration) error {
	now := s.now()
	err := s.File.Update(func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(failuresBucket)
		if err != nil {
			return err
		}
		if len(ts) == 0 {
			return b.Delete([]byte(client))
		}
		data, err := json.Marshal(ts)
		if err != nil {
			return err
		}
		if err := b.Put([]byte(client), data); err != nil {
			return err
		}
		if b.Stats().KeyN <= maxFailureClients {
			return nil
		}
		return pruneFailures(b, now, window)
	})
	if err != nil {
		return fmt.Errorf("record a failed authentication: %w", err)
	}
	return nil
}

// pruneFailures drops the expired clients, then the oldest, down to
// MaxFailureClients.
func pruneFailures(b *bolt.Bucket, now time.Time, window time.Duration) error {
	type entry struct {
		client string
		last   time.Time
	}
	var live []entry
	var drop [][]byte
	err := b.ForEach(func(k, v []byte) error {
		var ts []time.Time
		if json.Unmarshal(v, &ts) != nil || len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= window {
			drop = append(drop, append([]byte(nil), k...))
			return nil
		}
		live = append(live, entry{string(k), ts[len(ts)-1]})
		return nil
	})
	if err != nil {
		return err
	}
	if extra := len(live) - maxFailureClients; extra > 0 {
		sort.Slice(live, func(i, j int) bool { return live[i].last.Before(live[j].last) })
		for _, e := range live[:extra] {
			drop = append(drop, []byte(e.client))
		}
	}
	for _, k := range drop {
		if err := b.Delete(k); err != nil {
			return err
		}
	}
	return nil
}
