// Package stats holds the counters a runner process keeps about its work
// (SMTP hand-off results, crypto operations and their durations), per
// runner, for the heartbeat files the metrics endpoint reads.
package stats

import (
	"sort"
	"sync"
	"sync/atomic"
	"time"
)

var counters sync.Map // runner + "\x00" + key -> *atomic.Int64

// Add adds n to the counter key of runner. A key is a metric family with
// its labels, e.g. `smtp_recipients_total{result="accepted"}`.
func Add(runner, key string, n int64) {
	k := runner + "\x00" + key
	c, ok := counters.Load(k)
	if !ok {
		c, _ = counters.LoadOrStore(k, new(atomic.Int64))
	}
	c.(*atomic.Int64).Add(n)
}

// Time counts one operation and its duration in microseconds under
// crypto_operations_total and crypto_microseconds_total with the labels.
func Time(runner, labels string, start time.Time) {
	Add(runner, "crypto_operations_total{"+labels+"}", 1)
	Add(runner, "crypto_microseconds_total{"+labels+"}", time.Since(start).Microseconds())
}

// Snapshot returns the counters of runner.
func Snapshot(runner string) map[string]int64 {
	out := map[string]int64{}
	prefix := runner + "\x00"
	counters.Range(func(k, v any) bool {
		if s := k.(string); len(s) > len(prefix) && s[:len(prefix)] == prefix {
			out[s[len(prefix):]] = v.(*atomic.Int64).Load()
		}
		return true
	})
	return out
}

// Keys returns the sorted keys of a snapshot.
func Keys(m map[string]int64) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}
