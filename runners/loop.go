package runners

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"cloister/internal/boltfile"
	"cloister/internal/site"
	"cloister/queue"
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
	// Processed counts entries by outcome: done, retry, requeued, bad (and
	// waiting: waits for a temporary condition, when the map has the key).
	Processed map[string]*atomic.Int64
	// TempBackoff is the first wait after a temporary condition (Temporary);
	// the waits double up to a minute (default 1 s).
	TempBackoff time.Duration
	// Waiting, when set, is called with the condition when a wait for a
	// temporary condition begins and with nil when it ends (for the
	// heartbeat: `cloister status` and the metrics show the runner waiting).
	Waiting func(cond error)

	mu         sync.Mutex // guards claimWaits and stop: entries may be processed at once
	claimWaits int        // temporary claim failures in a row
	stop       error      // with Once, the temporary condition that stops the loop
}

// width is how many entries the loop processes at once: smtp_sessions for
// the outgoing queue (one slow MTA transaction must not hold up every
// list), one for every other queue, and one with Once (a drain hands mail
// over in queue order).
func (l *Loop) width() int {
	if !l.Once && l.Runner.Queue() == queue.Out && l.Site.Config.SMTPSessions > 1 {
		return l.Site.Config.SMTPSessions
	}
	return 1
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
// A full disk, an I/O error or a database lock time-out never stops the loop
// (see Temporary): it waits and tries again, at start as in the middle of an
// entry, except with Once, where it returns the error.
func (l *Loop) Run(ctx context.Context) error {
	in := l.Site.Queue(l.Runner.Queue())
	bad := l.Site.Queue(queue.Bad)
	log := l.Site.Log.With("runner", l.Runner.Name())
	defer startProfile(log, l.Runner.Name())()
	ready := false
	notifyReady := func() {
		if !ready && l.Ready != nil {
			l.Ready()
		}
		ready = true
	}
	var rec, wentBad int
	err := l.retry(ctx, log, "recover queue "+in.Name, func() error {
		var err error
		rec, wentBad, err = in.Recover(l.Slice, bad, l.Site.Config.MaxAttempts)
		if err != nil && Temporary(err) {
			notifyReady() // alive and waiting: systemd must not time out the start
		}
		return err
	})
	if err != nil {
		if ctx.Err() != nil && Temporary(err) {
			return nil
		}
		return fmt.Errorf("recover queue %s: %w", in.Name, err)
	}
	if rec+wentBad > 0 {
		log.Warn("recovered interrupted entries", "recovered", rec, "bad", wentBad)
	}
	var events <-chan struct{}
	if !l.Once {
		var closeWatch func()
		events, closeWatch = l.watch(in.Dir, log)
		defer closeWatch()
	}
	poll := l.Poll
	if poll == 0 {
		poll = 2 * time.Second
		if events == nil && !l.Once {
			poll = pollFallback // no notifications: scan often instead
		}
	}
	notifyReady()
	par := newParallel(l.width())
	defer par.wait() // the entries in hand are finished or put back
	var scheduled time.Time
	for {
		if l.Tick != nil {
			l.Tick()
		}
		if time.Since(scheduled) >= scheduleEvery {
			scheduled = time.Now()
			if err := l.Runner.Schedule(l.Site, scheduled); err != nil {
				log.Warn("schedule failed; trying again later", "err", err)
			}
		}
		var names []string
		err := l.retry(ctx, log, "list queue "+in.Name, func() error {
			var err error
			names, err = in.Ready(l.Slice, time.Now())
			return err
		})
		if err != nil {
			if ctx.Err() != nil && Temporary(err) {
				return nil
			}
			return err
		}
		started := 0
		for _, name := range names {
			if ctx.Err() != nil {
				return nil
			}
			if par == nil {
				if err := l.one(ctx, in, bad, name, log); err != nil {
					return err
				}
				started++
				continue
			}
			if par.start(ctx, name, func() error { return l.one(ctx, in, bad, name, log) }) {
				started++
			}
		}
		if err := par.err(); err != nil {
			return err
		}
		if l.Once && len(names) == 0 {
			return nil
		}
		if l.Once {
			continue
		}
		if started > 0 {
			continue // look again at once: more may have arrived meanwhile
		}
		timer := time.NewTimer(poll)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil
		case <-events:
			// Let a burst of arrivals settle a moment before rescanning, and
			// take the signal of its others: one rescan sees them all.
			time.Sleep(time.Millisecond)
			drainWake(events)
		case <-timer.C:
		}
		timer.Stop()
	}
}

// scheduleEvery is how often a running loop calls Schedule.
const scheduleEvery = time.Minute

// Temporary reports whether an error is a condition of the machine rather
// than of the entry: a full disk or quota, an I/O error, a database lock
// held too long by another process. Such an error is not the entry's
// failure and is never counted as an attempt: the loop keeps the claim,
// waits and tries again.
func Temporary(err error) bool {
	for _, target := range []error{syscall.ENOSPC, syscall.EDQUOT, syscall.EIO, boltfile.ErrLockTimeout} {
		if errors.Is(err, target) {
			return true
		}
	}
	return false
}

// Waits counts the waits for a temporary condition (Temporary) of every loop
// in the process.
var Waits atomic.Int64

// retry calls fn until it returns nil or an error that is not temporary, or
// ctx is done; with Once it does not wait.
func (l *Loop) retry(ctx context.Context, log *slog.Logger, what string, fn func() error) error {
	for n := 1; ; n++ {
		err := fn()
		if err == nil || !Temporary(err) || l.Once || !l.wait(ctx, log, what, err, n) {
			return err
		}
	}
}

// wait is the nth wait for a temporary condition: it logs a warning (the
// first time and every tenth), ticks, and backs off (TempBackoff doubling up
// to a minute). It reports false when ctx is done.
func (l *Loop) wait(ctx context.Context, log *slog.Logger, what string, err error, n int) bool {
	base := l.TempBackoff
	if base <= 0 {
		base = time.Second
	}
	Waits.Add(1)
	l.count("waiting")
	delay := Backoff(n, base, time.Minute)
	if n == 1 || n%10 == 0 {
		log.Warn("waiting for a temporary condition to clear", "during", what, "err", err, "in", delay, "tries", n)
	}
	if l.Waiting != nil {
		l.Waiting(err)
		defer l.Waiting(nil)
	}
	if l.Tick != nil {
		l.Tick()
	}
	timer := time.NewTimer(delay)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-timer.C:
		return true
	}
}

// one processes the named entry. It returns an error only when the loop
// must stop (with Once, a temporary condition).
func (l *Loop) one(ctx context.Context, in, bad *queue.Queue, name string, log *slog.Logger) error {
	e, err := in.Claim(name)
	if errors.Is(err, queue.ErrGone) {
		return nil
	}
	if err != nil {
		if e != nil && !errors.Is(err, queue.ErrCorrupt) {
			l.release(in, e, log) // claimed, but unreadable for now
			e = nil
		}
		if Temporary(err) {
			// Wait here (the next scan finds the entry again), longer each
			// time in a row.
			if l.Once {
				return err
			}
			l.mu.Lock()
			l.claimWaits++
			n := l.claimWaits
			l.mu.Unlock()
			l.wait(ctx, log, "claim "+name, err, n)
			return nil
		}
		if e != nil { // claimed, but its metadata is unreadable
			log.Error("unreadable entry", "entry", name, "err", err)
			l.dispose(ctx, in, log, "move to bad", func() error { return in.ToBad(e, bad, err.Error()) }, e)
			l.count("bad")
			return l.takeStop()
		}
		log.Error("claim failed", "entry", name, "err", err)
		return nil
	}
	l.mu.Lock()
	l.claimWaits = 0
	l.mu.Unlock()
	elog := log.With("entry", e.Meta.ID, "list", e.Meta.List)
	for waits := 1; ; waits++ {
		job := &Job{Site: l.Site, Entry: e, Meta: e.Meta.Clone(), Log: elog, Now: time.Now(), Tick: l.Tick}
		perr := safeProcess(ctx, l.Runner, job)
		if perr == nil || errors.Is(perr, errDone) {
			if err := job.sealOutputs(); err != nil {
				perr = err
			}
		}
		if perr == nil || errors.Is(perr, errDone) {
			l.handOver(ctx, in, bad, e, job, elog)
			return l.takeStop()
		}
		var pe *PanicError
		var perm *PermanentError
		var re *RetryError
		switch {
		case errors.As(perr, &pe), errors.As(perr, &perm):
			elog.Error("entry moved to bad", "reason", perr.Error())
			l.dispose(ctx, in, elog, "move to bad", func() error { return in.ToBad(e, bad, perr.Error()) }, e)
			l.count("bad")
		case errors.As(perr, &re):
			elog.Info("entry put back for later", "at", re.At, "reason", re.Reason)
			l.dispose(ctx, in, elog, "put back", func() error { return in.Put(e, job.Meta, re.At) }, e)
			l.count("retry")
		case ctx.Err() != nil:
			l.release(in, e, elog)
		case Temporary(perr):
			// The machine's fault, not the entry's: keep the claim, wait, and
			// process the entry again (its runner resumes from its progress).
			if l.Once {
				l.release(in, e, elog)
				return fmt.Errorf("entry %s: %w", e.Meta.ID, perr)
			}
			if !l.wait(ctx, elog, "process "+e.Meta.ID, perr, waits) {
				l.release(in, e, elog)
				return nil
			}
			continue
		default:
			l.requeue(ctx, e, job.Meta, in, bad, perr, elog)
		}
		return l.takeStop()
	}
}

// takeStop returns (and clears) the temporary condition that stops a loop
// with Once, if one was met while disposing of an entry.
func (l *Loop) takeStop() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	err := l.stop
	l.stop = nil
	return err
}

// setStop records the temporary condition that stops a loop with Once.
func (l *Loop) setStop(err error) {
	l.mu.Lock()
	l.stop = err
	l.mu.Unlock()
}

// handOver writes the job's staged outputs and removes the claim, exactly
// once (queue.Commit). Every output starts a new stage: its attempts count
// from zero.
func (l *Loop) handOver(ctx context.Context, in, bad *queue.Queue, e *queue.Entry, job *Job, elog *slog.Logger) {
	commit := func() error {
		outs := make([]queue.Output, len(job.outs))
		for i, o := range job.outs {
			o.meta.Attempts, o.meta.Progress = 0, 0
			outs[i] = queue.Output{Queue: l.Site.Queue(o.queue), Meta: o.meta, Body: o.reader()}
		}
		return in.Commit(e, outs)
	}
	err := l.retry(ctx, elog, "hand over "+e.Meta.ID, commit)
	switch {
	case err == nil:
	case errors.Is(err, queue.ErrCommitted):
		if err := l.finishCommitted(ctx, in, e, elog, err); err != nil {
			return
		}
	case Temporary(err):
		// Stopped (or Once) while the disk is full: nothing was handed over.
		l.release(in, e, elog)
		if l.Once {
			l.setStop(err)
		}
		return
	default:
		// Nothing is finished: the entry goes back and is tried again.
		elog.Error("hand-over failed", "err", err)
		l.requeue(ctx, e, job.Meta, in, bad, err, elog)
		return
	}
	for _, fn := range job.afterFinish {
		fn()
	}
	l.count("done")
}

// finishCommitted finishes a hand-over whose Commit failed after its commit
// point, until it succeeds or ctx is done (recovery then finishes it).
func (l *Loop) finishCommitted(ctx context.Context, in *queue.Queue, e *queue.Entry, elog *slog.Logger, cause error) error {
	elog.Warn("hand-over committed but not finished; finishing it", "err", cause)
	for n := 1; ; n++ {
		err := in.Resume(e)
		if err == nil {
			return nil
		}
		if l.Once || !l.wait(ctx, elog, "finish hand-over of "+e.Meta.ID, err, n) {
			elog.Error("finishing hand-over failed; recovery will finish it", "err", err)
			return err
		}
	}
}

// dispose runs a disposition of the claim (to bad, put back), waiting out
// temporary conditions; if it cannot (stopped, or Once), the claim is given
// back as it was, and with Once the loop stops with the condition.
func (l *Loop) dispose(ctx context.Context, in *queue.Queue, elog *slog.Logger, what string, fn func() error, e *queue.Entry) {
	err := l.retry(ctx, elog, what, fn)
	switch {
	case err == nil:
	case errors.Is(err, queue.ErrCommitted):
		// Decided; recovery finishes it if Resume cannot.
		if err := in.Resume(e); err != nil {
			elog.Error(what+" committed but not finished; recovery will finish it", "err", err)
		}
	case Temporary(err):
		l.release(in, e, elog)
		if l.Once {
			l.setStop(err)
		}
	default:
		elog.Error(what+" failed", "err", err)
	}
}

// release gives a claim back unchanged (a rename, which needs no space), for
// when the loop stops or cannot write.
func (l *Loop) release(in *queue.Queue, e *queue.Entry, elog *slog.Logger) {
	if err := in.Release(e); err != nil {
		elog.Error("release of claim failed; recovery will put it back", "err", err)
	}
}

// requeue counts a failed attempt: the entry goes back with a backoff, or to
// bad once it has failed MaxAttempts times. Progress since the last count (an
// outgoing fan-out that served more members) starts the count again.
func (l *Loop) requeue(ctx context.Context, e *queue.Entry, m *queue.Meta, in, bad *queue.Queue, cause error, log *slog.Logger) {
	m = m.Clone()
	if in.Progressed(m) {
		m.Attempts = 0
	}
	m.Attempts++
	if m.Attempts >= l.Site.Config.MaxAttempts {
		e.Meta = m
		log.Error("entry moved to bad after repeated failures", "attempts", m.Attempts, "err", cause)
		l.dispose(ctx, in, log, "move to bad", func() error {
			return in.ToBad(e, bad, fmt.Sprintf("failed %d times: %v", m.Attempts, cause))
		}, e)
		l.count("bad")
		return
	}
	delay := Backoff(m.Attempts, time.Second, time.Hour)
	m.LastError = cause.Error()
	m.AddStage(l.Runner.Name(), "attempt failed: "+cause.Error())
	log.Warn("attempt failed; will retry", "attempts", m.Attempts, "in", delay, "err", cause)
	l.dispose(ctx, in, log, "put back", func() error { return in.Put(e, m, time.Now().Add(delay)) }, e)
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
