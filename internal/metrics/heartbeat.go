package metrics

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"cloister/internal/safeio"
	"cloister/internal/stats"
	"cloister/queue"
)

// Outcomes are the outcome names the runner loop counts in Loop.Processed.
var Outcomes = []string{"done", "retry", "requeued", "bad"}

// NewProcessed returns one counter per outcome, for runners.Loop.Processed.
func NewProcessed() map[string]*atomic.Int64 {
	m := make(map[string]*atomic.Int64, len(Outcomes))
	for _, o := range Outcomes {
		m[o] = new(atomic.Int64)
	}
	return m
}

// RunDir is where the heartbeat files of a site live: STATE/run.
func RunDir(stateDir string) string { return filepath.Join(stateDir, "run") }

// Beat is the content of one runner's heartbeat file.
type Beat struct {
	Runner    string           `json:"runner"`
	Slice     string           `json:"slice,omitempty"`
	PID       int              `json:"pid"`
	Started   time.Time        `json:"started"`
	Tick      time.Time        `json:"tick"`
	Processed map[string]int64 `json:"processed"`
	// Counters are the runner's own counters (package stats): SMTP hand-off
	// results, crypto operations and their durations.
	Counters map[string]int64 `json:"counters,omitempty"`
	// Waiting is the temporary condition the runner waits on (a full disk,
	// an I/O error, a database lock held too long), empty when it waits on
	// none.
	Waiting string `json:"waiting,omitempty"`
}

// Runner states reported by Beat.State.
const (
	StateAlive = "alive" // the process exists and its loop ticked recently
	StateStale = "stale" // the process exists but its loop has not ticked for too long
	StateGone  = "gone"  // no such process: it died without removing its file
	// StateWaiting: alive, and waiting for a temporary condition to clear.
	StateWaiting = "waiting"
)

// State says whether the runner is alive: its process exists and its loop
// ticked within maxAge of now.
func (b Beat) State(now time.Time, maxAge time.Duration) string {
	if b.PID <= 0 || syscall.Kill(b.PID, 0) == syscall.ESRCH {
		return StateGone
	}
	if now.Sub(b.Tick) > maxAge {
		return StateStale
	}
	if b.Waiting != "" {
		return StateWaiting
	}
	return StateAlive
}

// MaxTickAge is how long a runner may go without a loop tick before status
// calls it stale (the loop ticks at least every poll period, 2 s by default).
const MaxTickAge = 30 * time.Second

// Heartbeat writes one runner's heartbeat file, at most once per Every.
// It is safe for concurrent use.
type Heartbeat struct {
	// Path is STATE/run/<runner>[.<i>-<n>].pid.
	Path string
	// Every is the least time between writes (default 1 s).
	Every time.Duration

	mu        sync.Mutex
	beat      Beat
	processed map[string]*atomic.Int64
	last      time.Time
	waits     int    // waits in progress (the outgoing loop may wait in several goroutines)
	waitingOn string // the condition of the latest of them
}

// Waiting records that a wait for a temporary condition begins (err, the
// condition) or ends (nil). The next Tick writes the change.
func (h *Heartbeat) Waiting(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err != nil {
		h.waits++
		h.waitingOn = err.Error()
	} else if h.waits > 0 {
		h.waits--
	}
	h.last = time.Time{} // write the change at the next tick
}

// BeatFile returns the heartbeat file name of a runner and slice.
func BeatFile(runner string, slice queue.Slice) string {
	if slice.N <= 1 {
		return runner + ".pid"
	}
	return fmt.Sprintf("%s.%d-%d.pid", runner, slice.I, slice.N)
}

// NewHeartbeat creates the run directory and writes the first beat.
// processed may be nil. When only the write fails (a full disk), it returns
// the heartbeat with the error: the runner goes on, and later ticks write
// the file when they can.
func NewHeartbeat(stateDir, runner string, slice queue.Slice, processed map[string]*atomic.Int64) (*Heartbeat, error) {
	dir := RunDir(stateDir)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create run dir: %w", err)
	}
	now := time.Now()
	h := &Heartbeat{Path: filepath.Join(dir, BeatFile(runner, slice)), Every: time.Second, processed: processed}
	h.beat = Beat{Runner: runner, PID: os.Getpid(), Started: now}
	if slice.N > 1 {
		h.beat.Slice = fmt.Sprintf("%d/%d", slice.I, slice.N)
	}
	if err := h.Tick(now); err != nil {
		return h, err
	}
	return h, nil
}

// Tick records a loop tick, writing the file if Every has passed since the
// last write.
func (h *Heartbeat) Tick(now time.Time) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.last.IsZero() && now.Sub(h.last) < h.Every {
		return nil
	}
	h.last = now
	h.beat.Tick = now
	h.beat.Processed = map[string]int64{}
	for o, c := range h.processed {
		h.beat.Processed[o] = c.Load()
	}
	h.beat.Counters = stats.Snapshot(h.beat.Runner)
	h.beat.Waiting = ""
	if h.waits > 0 {
		h.beat.Waiting = h.waitingOn
	}
	b, err := json.Marshal(h.beat)
	if err != nil {
		return err
	}
	// Padded to whole blocks, so that the file can be overwritten in place
	// on a full disk (below): a runner waiting for space still says so.
	b = append(b, '\n')
	b = append(b, bytes.Repeat([]byte(" "), beatBlock-len(b)%beatBlock)...)
	// A heartbeat needs no fsync: after a crash it is stale anyway.
	if err := safeio.WriteFile(h.Path, b, 0o640, safeio.NoSync()); err != nil {
		if ierr := overwrite(h.Path, b); ierr != nil {
			return fmt.Errorf("write heartbeat: %w (in place: %v)", err, ierr)
		}
	}
	return nil
}

// beatBlock is the size heartbeat files are padded to a multiple of.
const beatBlock = 4096

// overwrite rewrites the file at path in place with b, padded with spaces
// to the file's size, when b fits in it: the blocks are the file's already,
// so this needs no free space on file systems that overwrite in place.
func overwrite(path string, b []byte) error {
	f, err := os.OpenFile(path, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if int64(len(b)) > fi.Size() {
		return fmt.Errorf("%d bytes do not fit in the %d of the file", len(b), fi.Size())
	}
	b = append(b, bytes.Repeat([]byte(" "), int(fi.Size())-len(b))...)
	_, err = f.WriteAt(b, 0)
	return err
}

// Close removes the heartbeat file: the runner stopped cleanly.
func (h *Heartbeat) Close() error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := os.Remove(h.Path); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return nil
}

// maxBeatSize bounds what ReadBeats reads of one file.
const maxBeatSize = 64 << 10

// ReadBeats returns the heartbeats found in STATE/run, sorted by runner and
// slice. Unreadable files are skipped; a missing directory is no runner.
func ReadBeats(stateDir string) ([]Beat, error) {
	ents, err := os.ReadDir(RunDir(stateDir))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read run dir: %w", err)
	}
	var out []Beat
	for _, e := range ents {
		if !strings.HasSuffix(e.Name(), ".pid") || !e.Type().IsRegular() {
			continue
		}
		f, err := os.Open(filepath.Join(RunDir(stateDir), e.Name()))
		if err != nil {
			continue
		}
		var b Beat
		err = json.NewDecoder(io.LimitReader(f, maxBeatSize)).Decode(&b)
		f.Close()
		if err != nil || b.Runner == "" {
			continue
		}
		out = append(out, b)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Runner != out[j].Runner {
			return out[i].Runner < out[j].Runner
		}
		return out[i].Slice < out[j].Slice
	})
	return out, nil
}
