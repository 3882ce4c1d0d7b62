package service

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"cloister/internal/boltfile"
	"cloister/internal/site"
	"cloister/queue"
)

// badLockFile is the lock, in the state directory, that a requeue from the
// bad queue (QueueRequeue, `cloister queue requeue bad ...`) holds while it claims and hands over entries of the bad
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
	dq, err := queueNamed(s, dest)
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

// failedIn returns the queue an entry in bad failed in, from its history.
func failedIn(m *queue.Meta) string {
	for i := len(m.History) - 1; i >= 0; i-- {
		h := m.History[i]
		if h.Runner == "bad" {
			if q, _, ok := strings.Cut(h.Note, ":"); ok {
				return q
			}
		}
	}
	return queue.In
}

// queueNamed returns the site's queue called name.
func queueNamed(s *site.Site, name string) (*queue.Queue, error) {
	for _, n := range queue.Dirs() {
		if n == name {
			return s.Queue(n), nil
		}
	}
	return nil, errorf(CodeNotFound, "no queue named %q (queues: %s)", name, strings.Join(queue.Names, ", "))
}

// QueueRequeueRequest puts entries of a queue back for processing: into To,
// or, when empty, the queue each failed in (for entries of bad).
type QueueRequeueRequest struct {
	Queue   string   `json:"queue"`
	Entries []string `json:"entries"`
	To      string   `json:"to,omitempty"`
}

// Requeued says where an entry went.
type Requeued struct {
	Entry string `json:"entry"`
	To    string `json:"to"`
}

var opQueueRequeue = Op{"queue.requeue", ClassSite, ""}

// QueueRequeue hands entries over, each exactly once with its attempts and
// reason cleared (site admins); it stops at the first that fails and
// returns those requeued before it. Each is audited.
func (s *Service) QueueRequeue(ctx context.Context, a Actor, req QueueRequeueRequest) (done []Requeued, err error) {
	defer func() { s.audit(a, opQueueRequeue, "", req.Queue, err) }()
	if err := s.authorize(a, opQueueRequeue, nil); err != nil {
		return nil, err
	}
	from, err := queueNamed(s.site, req.Queue)
	if err != nil {
		return nil, err
	}
	if req.To != "" {
		if _, err := queueNamed(s.site, req.To); err != nil {
			return nil, err
		}
	}
	unlock, err := recoverForRequeue(s.site, from)
	if err != nil {
		return nil, internal(err, "prepare the requeue")
	}
	defer unlock()
	if len(req.Entries) == 0 {
		return nil, errorf(CodeInvalid, "no entry given")
	}
	for _, n := range req.Entries {
		n = strings.TrimSuffix(n, ".msg")
		if n == "" || strings.ContainsAny(n, `/\`) || strings.HasPrefix(n, ".") {
			return done, errorf(CodeInvalid, "%q is not an entry name", n)
		}
		dest, err := requeueOne(s.site, from, n, req.To)
		if err != nil {
			var e *Error
			if errors.As(err, &e) {
				return done, err
			}
			if errors.Is(err, queue.ErrGone) {
				return done, wrapf(err, CodeNotFound, "%v", err)
			}
			return done, internal(err, "requeue "+n)
		}
		s.auditDone(a, opQueueRequeue, "", req.Queue+"/"+n+" to "+dest)
		done = append(done, Requeued{Entry: n, To: dest})
	}
	return done, nil
}
