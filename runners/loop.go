package runners

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync/atomic"
	"time"

	"github.com/fsnotify/fsnotify"

	"cloister/queue"
	"cloister/site"
)

// PanicsRecovered counts panics recovered by every loop in the process; tests
// assert it stays zero where no panic is expected.
var PanicsRecovered atomic.Int64

// Loop runs one runner over its queue (or one slice of it).
type Loop struct {
	Site   *site.Site
	Runner Runner
	Slice  queue.Slice
	// Once drains the ready entries and returns instead of waiting for more.
	Once bool
	// Poll is the rescan period that backs up file-system notifications
	// (default 2 s).
	Poll time.Duration
	// Ready, when set, is called once the loop has recovered its queue and is
	// about to work (for sd_notify READY=1).
	Ready func()
	// Tick, when set, is called at least once per Poll period while the loop
	// is healthy (for the systemd watchdog).
	Tick func()
	// Processed counts entries by outcome: done, retry, requeued, bad.
	Processed map[string]*atomic.Int64
}

func (l *Loop) count(outcome string) {
	if l.Processed == nil {
		return
	}
	if c, ok := l.Processed[outcome]; ok {
		c.Add(1)
	}
}

// Run processes entries until ctx is cancelled (or, with Once, until no entry
// is ready). The entry in hand when ctx is cancelled is finished or put back.
func (l *Loop) Run(ctx context.Context) error {
	in := l.Site.Queue(l.Runner.Queue())
	bad := l.Site.Queue(queue.Bad)
	log := l.Site.Log.With("runner", l.Runner.Name())
	rec, wentBad, err := in.Recover(l.Slice, bad, l.Site.Config.MaxAttempts)
	if err != nil {
		return fmt.Errorf("recover queue %s: %w", in.Name, err)
	}
	if rec+wentBad > 0 {
		log.Warn("recovered interrupted entries", "recovered", rec, "bad", wentBad)
	}
	var events chan fsnotify.Event
	if !l.Once {
		w, err := fsnotify.NewWatcher()
		if err == nil {
			defer w.Close()
			if err := w.Add(in.Dir); err == nil {
				events = w.Events
			} else {
				log.Warn("watching queue failed; polling only", "err", err)
			}
		}
	}
	poll := l.Poll
	if poll == 0 {
		poll = 2 * time.Second
	}
	if l.Ready != nil {
		l.Ready()
	}
	for {
		if l.Tick != nil {
			l.Tick()
		}
		names, err := in.Ready(l.Slice, time.Now())
		if err != nil {
			return err
		}
		for _, name := range names {
			if ctx.Err() != nil {
				return nil
			}
			l.one(ctx, in, bad, name, log)
		}
		if l.Once && len(names) == 0 {
			return nil
		}
		if l.Once {
			continue
		}
		if len(names) > 0 {
			continue // look again at once: more may have arrived meanwhile
		}
		timer := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-events:
			// Let a burst of arrivals settle a moment before rescanning.
			time.Sleep(5 * time.Millisecond)
		case <-timer.C:
		}
		timer.Stop()
	}
}

func (l *Loop) one(ctx context.Context, in, bad *queue.Queue, name string, log *slog.Logger) {
	e, err := in.Claim(name)
	if errors.Is(err, queue.ErrGone) {
		return
	}
	if err != nil {
		if e != nil { // claimed, but its metadata is unreadable
			log.Error("unreadable entry", "entry", name, "err", err)
			if err := in.ToBad(e, bad, err.Error()); err != nil {
				log.Error("move to bad failed", "entry", name, "err", err)
			}
			l.count("bad")
			return
		}
		log.Error("claim failed", "entry", name, "err", err)
		return
	}
	elog := log.With("entry", e.Meta.ID, "list", e.Meta.List)
	job := &Job{Site: l.Site, Entry: e, Meta: e.Meta.Clone(), Log: elog, Now: time.Now()}
	perr := safeProcess(ctx, l.Runner, job)
	if perr == nil || errors.Is(perr, errDone) {
		if err := job.sealOutputs(); err != nil {
			perr = err
		}
	}
	if perr == nil || errors.Is(perr, errDone) {
		for _, o := range job.outs {
			if err := l.Site.Queue(o.queue).Handover(o.meta, bytesReader(o.body)); err != nil {
				// Nothing is finished: the entry goes back and is tried again.
				elog.Error("hand-over failed", "to", o.queue, "err", err)
				l.requeue(e, job.Meta, in, bad, fmt.Errorf("hand-over to %s: %w", o.queue, err), elog)
				return
			}
		}
		if err := in.Finish(e); err != nil {
			elog.Error("finish failed", "err", err)
			return
		}
		for _, fn := range job.afterFinish {
			fn()
		}
		l.count("done")
		return
	}
	var pe *PanicError
	var perm *PermanentError
	var re *RetryError
	switch {
	case errors.As(perr, &pe), errors.As(perr, &perm):
		elog.Error("entry moved to bad", "reason", perr.Error())
		if err := in.ToBad(e, bad, perr.Error()); err != nil {
			elog.Error("move to bad failed", "err", err)
		}
		l.count("bad")
	case errors.As(perr, &re):
		elog.Info("entry put back for later", "at", re.At, "reason", re.Reason)
		if err := in.Put(e, job.Meta, re.At); err != nil {
			elog.Error("put back failed", "err", err)
		}
		l.count("retry")
	case ctx.Err() != nil:
		if err := in.Put(e, e.Meta, time.Now()); err != nil {
			elog.Error("put back on stop failed", "err", err)
		}
	default:
		l.requeue(e, job.Meta, in, bad, perr, elog)
	}
}

// requeue counts a failed attempt: the entry goes back with a backoff, or to
// bad once it has failed MaxAttempts times.
func (l *Loop) requeue(e *queue.Entry, m *queue.Meta, in, bad *queue.Queue, cause error, log *slog.Logger) {
	m = m.Clone()
	m.Attempts++
	if m.Attempts >= l.Site.Config.MaxAttempts {
		e.Meta = m
		log.Error("entry moved to bad after repeated failures", "attempts", m.Attempts, "err", cause)
		if err := in.ToBad(e, bad, fmt.Sprintf("failed %d times: %v", m.Attempts, cause)); err != nil {
			log.Error("move to bad failed", "err", err)
		}
		l.count("bad")
		return
	}
	delay := Backoff(m.Attempts, time.Second, time.Hour)
	m.LastError = cause.Error()
	m.AddStage(l.Runner.Name(), "attempt failed: "+cause.Error())
	log.Warn("attempt failed; will retry", "attempts", m.Attempts, "in", delay, "err", cause)
	if err := in.Put(e, m, time.Now().Add(delay)); err != nil {
		log.Error("put back failed", "err", err)
	}
	l.count("requeued")
}

// Backoff returns a jittered exponential delay for the nth attempt.
func Backoff(attempt int, base, max time.Duration) time.Duration {
	d := base
	for i := 1; i < attempt && d < max; i++ {
		d *= 2
	}
	if d > max {
		d = max
	}
	return d/2 + time.Duration(rand.Int64N(int64(d/2)+1))
}

// safeProcess calls the runner, turning a panic into a *PanicError so that one
// poisoned entry never stops a queue.
func safeProcess(ctx context.Context, r Runner, job *Job) (err error) {
	defer func() {
		if v := recover(); v != nil {
			PanicsRecovered.Add(1)
			job.Log.Error("panic while processing", "panic", v, "stack", string(debug.Stack()))
			err = &PanicError{Value: v}
		}
	}()
	return r.Process(ctx, job)
}
