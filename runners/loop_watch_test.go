package runners

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/fsnotify/fsnotify"

	"cloister/internal/stats"
	"cloister/queue"
)

// TestLoopWithoutWatcherSaysItPolls: a loop that cannot get a file watcher
// (inotify limits reached) says so at warn level and in its runner's
// counters (which `cloister status` shows), and still takes an entry that
// arrives while it is idle.
func TestLoopWithoutWatcherSaysItPolls(t *testing.T) {
	defer func(old func() (*fsnotify.Watcher, error)) { newWatcher = old }(newWatcher)
	newWatcher = func() (*fsnotify.Watcher, error) { return nil, errors.New("too many open files") }
	s := newTestSite(t)
	before := stats.Snapshot("incoming")[PollingCounter]
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ready := make(chan struct{})
	l := &Loop{Site: s.Site, Runner: Incoming{}, Slice: queue.All, Ready: func() { close(ready) }}
	done := make(chan error, 1)
	go func() { done <- l.Run(ctx) }()
	<-ready
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	eventually(t, "the post taken from queue/in", func() bool { return s.count(t, queue.In) == 0 })
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(s.logs.String(), "level=WARN msg=\"no file watcher on the queue; polling it instead\"") {
		t.Fatalf("no warning that the loop polls; log:\n%s", s.logs.String())
	}
	if n := stats.Snapshot("incoming")[PollingCounter] - before; n != 1 {
		t.Fatalf("polling counter grew by %d, want 1", n)
	}
}

// TestArrival: only a file that can be an entry appearing in the folder
// wakes a loop, not the writes of a progress journal or a temporary file,
// nor a claimed entry or one leaving.
func TestArrival(t *testing.T) {
	for _, tc := range []struct {
		name string
		op   fsnotify.Op
		want bool
	}{
		{"/q/out/1764-ab.msg", fsnotify.Create, true},
		{"/q/out/1764-ab.msg", fsnotify.Create | fsnotify.Write, true},
		{"/q/out/1764-ab.msg", fsnotify.Write, false},
		{"/q/out/1764-ab.msg", fsnotify.Chmod, false},
		{"/q/out/1764-ab.msg", fsnotify.Rename, false}, // renamed away (claimed)
		{"/q/out/1764-ab.msg", fsnotify.Remove, false},
		{"/q/out/1764-ab.bak", fsnotify.Create, false},
		{"/q/out/.progress-1764-ab", fsnotify.Write, false},
		{"/q/out/.progress-1764-ab", fsnotify.Create, false},
		{"/q/out/.tmp-123", fsnotify.Create, false},
		{"/q/out/.tmp-123.msg", fsnotify.Create, false},
	} {
		if got := arrival(fsnotify.Event{Name: tc.name, Op: tc.op}); got != tc.want {
			t.Errorf("arrival(%s %s) = %v, want %v", tc.op, tc.name, got, tc.want)
		}
	}
}

// TestForwardArrivals: a journal's writes do not signal the loop, an
// entry's arrival does (one pending signal for many), and a watcher's error
// (a kernel queue overflow) signals it and is logged, and is read: the
// events after it still come through.
func TestForwardArrivals(t *testing.T) {
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, nil))
	w := &fsnotify.Watcher{Events: make(chan fsnotify.Event), Errors: make(chan error)}
	wake := make(chan struct{}, 1)
	done := make(chan struct{})
	go func() { forwardArrivals(w, wake, log); close(done) }()
	// Each send returns once the forwarder took the event; the send after it
	// returns once it handled it.
	for range 100 {
		w.Events <- fsnotify.Event{Name: "/q/out/.progress-1", Op: fsnotify.Write}
	}
	w.Events <- fsnotify.Event{Name: "/q/out/1.msg", Op: fsnotify.Write}
	w.Events <- fsnotify.Event{Name: "/q/out/.progress-1", Op: fsnotify.Write} // the write before is handled
	if len(wake) != 0 {
		t.Fatal("journal writes signalled the loop")
	}
	w.Events <- fsnotify.Event{Name: "/q/out/2.msg", Op: fsnotify.Create}
	w.Events <- fsnotify.Event{Name: "/q/out/3.msg", Op: fsnotify.Create}
	w.Events <- fsnotify.Event{Name: "/q/out/.progress-1", Op: fsnotify.Write}
	if len(wake) != 1 {
		t.Fatalf("%d signals pending after two arrivals, want 1", len(wake))
	}
	<-wake
	w.Errors <- fsnotify.ErrEventOverflow
	w.Events <- fsnotify.Event{Name: "/q/out/.progress-1", Op: fsnotify.Write}
	if len(wake) != 1 {
		t.Fatal("a watcher's error did not signal the loop")
	}
	<-wake
	w.Events <- fsnotify.Event{Name: "/q/out/4.msg", Op: fsnotify.Create}
	close(w.Errors) // the forwarder stops at the first closed channel
	<-done
	if len(wake) != 1 {
		t.Fatal("an arrival after the error did not signal the loop")
	}
	if !strings.Contains(logs.String(), "level=WARN msg=\"file watcher on the queue failed; rescanning it\"") {
		t.Fatalf("the watcher's error was not logged; log:\n%s", logs.String())
	}
}
