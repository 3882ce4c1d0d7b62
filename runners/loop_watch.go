package runners

import (
	"log/slog"
	"path/filepath"
	"time"

	"github.com/fsnotify/fsnotify"

	"cloister/internal/stats"
	"cloister/queue"
)

// pollFallback is the rescan period of a loop that has no file watcher (the
// inotify limits reached, say): scanning a queue folder costs one
// directory read, so the fallback keeps latency low at the price of a few
// system calls a second.
const pollFallback = 100 * time.Millisecond

// PollingCounter is the counter (package stats, under the runner's name)
// of the loops that poll their queue instead of being notified;
// `cloister status` reads it from the runner's heartbeat.
const PollingCounter = "queue_polling"

// newWatcher makes the file watcher of a loop (replaced by tests).
var newWatcher = fsnotify.NewWatcher

// watch returns a channel that receives when an entry may have arrived in
// dir, from a file watcher, and what closes it; or a nil channel (the loop
// then polls) after saying so at warn level and in the runner's counters.
//
// Only a file that can be an entry (queue.IsEntry) appearing in dir (an
// entry is renamed into place) wakes the loop: the writes of an outgoing
// entry's progress journal, one per transaction, and the temporary files
// do not make it rescan. A watcher that lost events (its kernel queue
// overflowed) says so and wakes the loop too, so that a rescan finds what
// arrived meanwhile; the watcher's errors are read, or its reader would
// stop at the first one and the loop would be left to its poll period.
func (l *Loop) watch(dir string, log *slog.Logger) (<-chan struct{}, func()) {
	w, err := newWatcher()
	if err == nil {
		if err = w.Add(dir); err == nil {
			wake := make(chan struct{}, 1)
			go forwardArrivals(w, wake, log)
			return wake, func() { w.Close() }
		}
		w.Close()
	}
	log.Warn("no file watcher on the queue; polling it instead", "dir", dir, "every", pollFallback, "err", err)
	stats.Add(l.Runner.Name(), PollingCounter, 1)
	return nil, func() {}
}

// forwardArrivals signals wake (without blocking: one pending signal
// stands for any number) for each event of w that can be an entry's
// arrival and for each error, until w is closed.
func forwardArrivals(w *fsnotify.Watcher, wake chan<- struct{}, log *slog.Logger) {
	signal := func() {
		select {
		case wake <- struct{}{}:
		default:
		}
	}
	for {
		select {
		case ev, ok := <-w.Events:
			if !ok {
				return
			}
			if arrival(ev) {
				signal()
			}
		case err, ok := <-w.Errors:
			if !ok {
				return
			}
			log.Warn("file watcher on the queue failed; rescanning it", "err", err)
			signal()
		}
	}
}

// arrival reports whether ev can be an entry appearing: a file created or
// renamed into the folder (fsnotify's Create) whose name is an entry's.
func arrival(ev fsnotify.Event) bool {
	return ev.Has(fsnotify.Create) && queue.IsEntry(filepath.Base(ev.Name))
}

// drainWake takes a signal already waiting, without blocking.
func drainWake(wake <-chan struct{}) {
	select {
	case <-wake:
	default:
	}
}
