package runners

import (
	"log/slog"
	"time"

	"github.com/fsnotify/fsnotify"

	"cloister/internal/stats"
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

// watch returns the events of a file watcher on dir and what closes it,
// or nil events (the loop then polls) after saying so at warn level and in
// the runner's counters.
func (l *Loop) watch(dir string, log *slog.Logger) (chan fsnotify.Event, func()) {
	w, err := newWatcher()
	if err == nil {
		if err = w.Add(dir); err == nil {
			return w.Events, func() { w.Close() }
		}
		w.Close()
	}
	log.Warn("no file watcher on the queue; polling it instead", "dir", dir, "every", pollFallback, "err", err)
	stats.Add(l.Runner.Name(), PollingCounter, 1)
	return nil, func() {}
}

// drainEvents takes the events already waiting, without blocking.
func drainEvents(events chan fsnotify.Event) {
	for {
		select {
		case <-events:
		default:
			return
		}
	}
}
