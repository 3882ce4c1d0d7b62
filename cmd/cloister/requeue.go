package main

import (
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"cloister/internal/boltfile"
	"cloister/queue"
	"cloister/site"
)

// badLockFile is the lock, in the state directory, that `cloister queue
// requeue bad ...` holds while it claims and hands over entries of the bad
// queue, which no runner owns.
const badLockFile = "bad.lock"

// recoverForRequeue prepares a requeue from q. The bad queue has no runner
// to recover it at start, so a requeue killed half-way would leave its claim
// (or its committed hand-over) there for good: under the bad queue's lock
// (no other requeue from bad is live), a requeue from bad first finishes the
// committed hand-overs a killed requeue left and puts its other claims back
// (queue.RecoverInPlace). Other queues are recovered by their runners.
func recoverForRequeue(s *site.Site, q *queue.Queue) (unlock func(), err error) {
	if q.Name != queue.Bad {
		return func() {}, nil
	}
	lock, err := boltfile.Lock(filepath.Join(s.Config.StateDir, badLockFile), true, boltfile.DefaultTimeout)
	if err != nil {
		return nil, fmt.Errorf("lock the bad queue: %w", err)
	}
	if n, err := q.RecoverInPlace(); err != nil {
		lock.Close()
		return nil, fmt.Errorf("recover the bad queue: %w", err)
	} else if n > 0 {
		s.Log.Warn("finished or put back requeues interrupted earlier", "queue", q.Name, "entries", n)
	}
	return func() { lock.Close() }, nil
}

// requeueOne hands entry name of queue from over to the queue to (or, when
// empty, the queue it failed in) with attempts and reason cleared, exactly
// once (queue.Commit): a requeue killed at any point neither loses the entry
// nor queues it twice. It returns the destination's name.
func requeueOne(s *site.Site, from *queue.Queue, name, to string) (string, error) {
	e, err := from.Claim(name)
	if err != nil {
		return "", fmt.Errorf("%s: %w", name, err)
	}
	dest := to
	if dest == "" {
		dest = failedIn(e.Meta)
	}
	dq, err := queueByName(s.Queue, dest)
	if err != nil {
		from.Put(e, e.Meta, time.Now())
		return "", err
	}
	m := e.Meta.Clone()
	m.Attempts, m.Reason = 0, ""
	m.AddStage("requeue", "by operator from "+from.Name)
	r, err := e.BodyReader()
	if err != nil {
		from.Put(e, e.Meta, time.Now())
		return "", err
	}
	err = from.Commit(e, []queue.Output{{Queue: dq, Meta: m, Body: r}})
	r.Close()
	if errors.Is(err, queue.ErrCommitted) {
		err = from.Resume(e) // the hand-over happened; only its cleanup failed
	}
	if err != nil {
		return "", fmt.Errorf("requeue %s to %s: %w", name, dq.Name, err)
	}
	return dq.Name, nil
}
