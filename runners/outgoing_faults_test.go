package runners

import (
	"context"
	"os"
	"strconv"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"cloister/queue"
)

// TestJournalWriteFaultAfterAccept: the progress journal cannot be written
// (ENOSPC, then EIO) just after the MTA accepted a transaction. The fan-out
// waits until the journal is durable instead of giving up the entry, and a
// restart afterwards (a runner killed while waiting, or one that stopped on
// the error) sends nobody the post twice.
func TestJournalWriteFaultAfterAccept(t *testing.T) {
	for _, batch := range []int{1, 10} {
		s := newTestSite(t)
		s.setSettings(t, "batch_size", strconv.Itoa(batch))
		journalBackoff = time.Millisecond
		t.Cleanup(func() { journalBackoff = time.Second })
		var fails atomic.Int32
		fails.Store(4)
		queue.FaultHook = func(p string) error {
			if p != PointJournal || fails.Load() <= 0 {
				return nil
			}
			if fails.Add(-1)%2 == 0 {
				return &os.PathError{Op: "write", Path: "journal", Err: syscall.EIO}
			}
			return &os.PathError{Op: "write", Path: "journal", Err: syscall.ENOSPC}
		}
		t.Cleanup(func() { queue.FaultHook = nil })
		s.deliver(t, queue.SubPost, "bob@subs.test", post)
		if err := Drain(context.Background(), s.Site); err != nil {
			t.Logf("batch %d: drain stopped: %v; restarting", batch, err)
			fails.Store(0)
			s.drain(t)
		}
		if fails.Load() > 0 {
			t.Fatalf("batch %d: the journal was never written", batch)
		}
		s.deliveredOnce(t)
		queue.FaultHook = nil
	}
}
