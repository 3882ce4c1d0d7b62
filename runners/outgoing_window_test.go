package runners

import (
	"context"
	"runtime"
	"testing"
	"time"
)

// waitFor waits until the window's feeder is waiting (take blocked).
func waitFor(t *testing.T, w *window) {
	t.Helper()
	// A hang guard, not a timing: a take that returned instead of waiting
	// leaves the test here.
	deadline := time.Now().Add(time.Minute)
	for {
		w.mu.Lock()
		waiting := w.waiting
		w.mu.Unlock()
		if waiting {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("take did not wait")
		}
		runtime.Gosched()
	}
}

// TestWindowBursts checks that a full window's feeder is woken once a burst
// of slots is free, not at each slot, and takes the whole burst; that near
// the end it waits only for the units left; and that a cancelled context
// ends the wait.
func TestWindowBursts(t *testing.T) {
	ctx := context.Background()
	w := newWindow(8)
	if n := w.take(ctx, 100); n != 8 {
		t.Fatalf("take on an empty window took %d slots, want 8", n)
	}
	got := make(chan int, 1)
	go func() { got <- w.take(ctx, 100) }()
	waitFor(t, w)
	for i := range 3 {
		w.release()
		select {
		case n := <-got:
			t.Fatalf("take returned %d after %d slots freed, want it to wait for 4", n, i+1)
		default:
		}
		if len(w.wake) != 0 {
			t.Fatalf("the feeder was signalled after %d slots freed, want after 4", i+1)
		}
	}
	w.release()
	if n := <-got; n != 4 {
		t.Fatalf("take after a burst freed took %d, want 4", n)
	}

	// Two units left: the feeder waits for two slots, not a burst of four.
	go func() { got <- w.take(ctx, 2) }()
	waitFor(t, w)
	w.release()
	if len(w.wake) != 0 {
		t.Fatal("the feeder was signalled with one slot free, it waits for two")
	}
	w.release()
	if n := <-got; n != 2 {
		t.Fatalf("take(2) took %d, want 2", n)
	}

	// Slots freed while nobody waits are taken at once, up to want.
	for range 5 {
		w.release()
	}
	if n := w.take(ctx, 3); n != 3 {
		t.Fatalf("take(3) with 5 free took %d, want 3", n)
	}

	cctx, cancel := context.WithCancel(ctx)
	go func() { got <- w.take(cctx, 100) }()
	waitFor(t, w)
	cancel()
	if n := <-got; n != 0 {
		t.Fatalf("take with its context cancelled took %d, want 0", n)
	}
}

// TestWindowOfOne checks the smallest window (a large post's copies, one at
// a time): each freed slot wakes the feeder.
func TestWindowOfOne(t *testing.T) {
	ctx := context.Background()
	w := newWindow(0)
	for i := range 3 {
		if n := w.take(ctx, 10); n != 1 {
			t.Fatalf("take %d took %d, want 1", i, n)
		}
		got := make(chan int, 1)
		go func() { got <- w.take(ctx, 10) }()
		waitFor(t, w)
		w.release()
		if n := <-got; n != 1 {
			t.Fatalf("take after the slot was freed took %d, want 1", n)
		}
		w.release()
	}
}
