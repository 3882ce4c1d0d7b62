package main

import (
	"sync"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
)

// watchdog sends WATCHDOG=1 to systemd when every loop of the process has
// ticked since the last notification and half the watchdog interval has
// passed, so one stuck loop among several stops the notifications and
// systemd restarts the unit. Its methods are no-ops on nil (no watchdog).
type watchdog struct {
	every time.Duration
	mu    sync.Mutex
	last  time.Time
	seen  []bool
	left  int
}

// newWatchdog returns nil unless systemd asked for watchdog notifications
// ($WATCHDOG_USEC, and $WATCHDOG_PID if set is this process).
func newWatchdog(loops int) *watchdog {
	d, err := daemon.SdWatchdogEnabled(false)
	if err != nil || d <= 0 {
		return nil
	}
	return &watchdog{every: d / 2, seen: make([]bool, loops), left: loops}
}

// tick records that loop i is healthy.
func (w *watchdog) tick(i int, now time.Time) {
	if w == nil {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.seen[i] {
		w.seen[i] = true
		w.left--
	}
	if w.left > 0 || (!w.last.IsZero() && now.Sub(w.last) < w.every) {
		return
	}
	daemon.SdNotify(false, daemon.SdNotifyWatchdog)
	w.last = now
	for j := range w.seen {
		w.seen[j] = false
	}
	w.left = len(w.seen)
}

// notifyReady and notifyStopping tell systemd (Type=notify) the process is
// working, or stopping; without $NOTIFY_SOCKET they do nothing.
func notifyReady()    { daemon.SdNotify(false, daemon.SdNotifyReady) }
func notifyStopping() { daemon.SdNotify(false, daemon.SdNotifyStopping) }
