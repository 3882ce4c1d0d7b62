package runners

import (
	"context"
	"sync"
)

// window bounds the units of a fan-out that are being made or wait for a
// session (makeCopies), and has them made in bursts: once the window is
// full, the feeder waits until a burst of slots is free and then takes them
// all at once. A session that frees a slot wakes the feeder only when that
// burst is free, so a fan-out paced by a slow MTA wakes the copy makers
// once per burst rather than once per copy: into a Postfix instance on two
// cores, each such wake-up (a thread woken, a thread put back to sleep by
// the Go scheduler) cost the runner more CPU than the copy's encryption.
type window struct {
	mu      sync.Mutex
	free    int           // slots free
	burst   int           // what the feeder waits for once the window is full
	need    int           // with waiting: the free slots the feeder waits for
	waiting bool          // the feeder waits on wake
	wake    chan struct{} // capacity 1: release's signal to a waiting take
}

// newWindow returns a window of size slots (at least one) whose feeder
// waits for half of them at a time.
func newWindow(size int) *window {
	size = max(1, size)
	return &window{free: size, burst: max(1, size/2), wake: make(chan struct{}, 1)}
}

// take waits until min(want, burst) slots are free and takes as many as are
// free, up to want; it returns how many it took, 0 when ctx is done first.
func (w *window) take(ctx context.Context, want int) int {
	need := max(1, min(want, w.burst))
	for {
		w.mu.Lock()
		if w.free >= need {
			n := min(w.free, want)
			w.free -= n
			w.waiting = false
			w.mu.Unlock()
			return n
		}
		w.waiting, w.need = true, need
		w.mu.Unlock()
		select {
		case <-w.wake:
		case <-ctx.Done():
			return 0
		}
	}
}

// release frees one slot, waking a waiting take once what it waits for is
// free.
func (w *window) release() {
	w.mu.Lock()
	w.free++
	wake := w.waiting && w.free >= w.need
	if wake {
		w.waiting = false
	}
	w.mu.Unlock()
	if wake {
		select {
		case w.wake <- struct{}{}:
		default: // a signal is pending already
		}
	}
}
