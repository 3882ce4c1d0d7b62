package runners

import (
	"context"
	"errors"
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
