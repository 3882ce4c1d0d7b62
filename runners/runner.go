// Package runners holds Cloister's runners, the long-running processes that
// move queue entries from one stage to the next (DESIGN.md section 1), and the
// loop they share: watch the queue, claim an entry, process it, hand over its
// results durably, finish it. One file per runner; All lists them.
package runners

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"

	"cloister/internal/seal"
	"cloister/internal/site"
	"cloister/mailmsg"
	"cloister/queue"
)

// Runner processes the entries of one queue.
type Runner interface {
	// Name is the runner's name, as in `cloister runner NAME`.
	Name() string
	// Queue is the queue the runner reads.
	Queue() string
	// Description is one line for `cloister runner --help` and the docs.
	Description() string
	// Process handles one claimed entry. It stages its results with job.Send;
	// the loop writes them durably before finishing the entry. Its error
	// decides what becomes of the entry (see the error types below).
	Process(ctx context.Context, job *Job) error
	// Schedule queues the runner's own timers, for a runner that keeps its
	// schedule as timer entries named for the time they fall due (the
	// cover runner); the loop calls it when it starts and every
	// scheduleEvery while it runs. A runner without timers returns nil.
	Schedule(s *site.Site, now time.Time) error
}

// All lists every runner, in the order a post meets them.
var All = []Runner{
	Incoming{},
	Command{},
	Rules{},
	Pipeline{},
	Archive{},
	Outgoing{},
	Retry{},
	Bounce{},
	Digest{},
	Cover{},
}

// The runners that keep no timers of their own; the cover runner's Schedule
// is in cover.go. The digest runner's timers are queued by the posts it
// gathers, not by a schedule.

// Schedule implements Runner: the incoming runner keeps no timers.
func (Incoming) Schedule(*site.Site, time.Time) error { return nil }

// Schedule implements Runner: the command runner keeps no timers.
func (Command) Schedule(*site.Site, time.Time) error { return nil }

// Schedule implements Runner: the rules runner keeps no timers.
func (Rules) Schedule(*site.Site, time.Time) error { return nil }

// Schedule implements Runner: the pipeline runner keeps no timers.
func (Pipeline) Schedule(*site.Site, time.Time) error { return nil }

// Schedule implements Runner: the archive runner keeps no timers.
func (Archive) Schedule(*site.Site, time.Time) error { return nil }

// Schedule implements Runner: the outgoing runner keeps no timers.
func (Outgoing) Schedule(*site.Site, time.Time) error { return nil }

// Schedule implements Runner: the retry runner's entries are named for
// their next attempt by the runner that failed them.
func (Retry) Schedule(*site.Site, time.Time) error { return nil }

// Schedule implements Runner: the bounce runner keeps no timers.
func (Bounce) Schedule(*site.Site, time.Time) error { return nil }

// Schedule implements Runner: the digest runner's timers are queued with
// the first post of each digest.
func (Digest) Schedule(*site.Site, time.Time) error { return nil }

// Lookup returns the runner with the name.
func Lookup(name string) (Runner, error) {
	for _, r := range All {
		if r.Name() == name {
			return r, nil
		}
	}
	names := ""
	for i, r := range All {
		if i > 0 {
			names += ", "
		}
		names += r.Name()
	}
	return nil, fmt.Errorf("no runner named %q (runners: %s)", name, names)
}

// Job is one claimed entry in the hands of a runner.
type Job struct {
	Site  *site.Site
	Entry *queue.Entry
	// Meta is the runner's working copy of the entry's metadata; staged
	// results usually start from Meta.Clone().
	Meta *queue.Meta
	Log  *slog.Logger
	Now  time.Time
	// Tick, when set, tells the loop's watchdog the runner is healthy; a
	// long job (an outgoing fan-out) calls it as it makes progress.
	Tick func()

	outs        []output
	afterFinish []func()
}

// AfterFinish registers fn to run once the entry is finished (its hand-overs
// are durable), e.g. to remove a progress journal.
func (j *Job) AfterFinish(fn func()) { j.afterFinish = append(j.afterFinish, fn) }

type output struct {
	queue string
	meta  *queue.Meta
	// head, when set, is written before body: a message's header section
	// in front of its body as it lies in the entry read, not joined to it.
	head []byte
	body []byte
	// seal, when set, is the key the body is sealed with as it is written.
	seal *seal.Key
}

// reader returns the bytes to write for the output: its body, sealed a
// chunk at a time when it must be, so that no sealed copy of a large post is
// held beside its plaintext. Each call starts afresh (with a new salt), for a
// hand-over that is retried.
func (o output) reader() io.Reader {
	var r io.Reader = bytes.NewReader(o.body)
	if o.head != nil {
		r = io.MultiReader(bytes.NewReader(o.head), r)
	}
	if o.seal == nil {
		return r
	}
	return o.seal.NewSealer(r, []byte(o.meta.ID))
}

// Body returns the entry's message bytes, unsealed when they were sealed.
func (j *Job) Body() ([]byte, error) {
	b, err := j.Entry.Body()
	if err != nil {
		return nil, err
	}
	return j.Site.OpenBody(j.Entry.Meta, b)
}

// Send stages a new entry for the named queue. The loop writes every staged
// entry, then finishes the current one; a crash in between repeats the
// hand-over, which replaces rather than duplicates (entries are named after
// their ids). An entry without an id gets one derived from the current entry.
func (j *Job) Send(queueName string, meta *queue.Meta, body []byte) {
	j.send(output{queue: queueName, meta: meta, body: body})
}

// SendMessage is Send for a parsed message: its header section and body
// are written one after the other, never joined into a copy of the post.
// The staged entry keeps msg's body; nothing changes it after.
func (j *Job) SendMessage(queueName string, meta *queue.Meta, msg *mailmsg.Message) {
	j.send(output{queue: queueName, meta: meta, head: msg.HeaderBytes(), body: msg.Body})
}

func (j *Job) send(o output) {
	meta, queueName := o.meta, o.queue
	if meta.ID == "" || meta.ID == j.Entry.Meta.ID {
		n := 0
		for _, o := range j.outs {
			if o.queue == queueName {
				n++
			}
		}
		meta.ID = j.Entry.Meta.ID
		if n > 0 {
			meta.ID = fmt.Sprintf("%s-%d", j.Entry.Meta.ID, n)
		}
	}
	j.outs = append(j.outs, o)
}

// sealOutputs marks the staged outputs of encrypted posts to be sealed as
// they are written (security invariant 2); the loop calls it before writing
// them.
func (j *Job) sealOutputs() error {
	for i := range j.outs {
		k, err := j.Site.SealingKey(j.outs[i].meta)
		if err != nil {
			return err
		}
		j.outs[i].seal = k
	}
	return nil
}

// PermanentError sends the entry to the bad queue with its reason: retrying
// cannot help (unreadable input, a list that no longer exists).
type PermanentError struct{ Reason string }

func (e *PermanentError) Error() string { return e.Reason }

// Permanent returns a *PermanentError with a formatted reason.
func Permanent(format string, a ...any) error {
	return &PermanentError{Reason: fmt.Sprintf(format, a...)}
}

// RetryError puts the entry back to be processed again at At, without
// counting an attempt (the runner records its own progress in Meta).
type RetryError struct {
	At     time.Time
	Reason string
}

func (e *RetryError) Error() string { return "retry at " + e.At.Format(time.RFC3339) + ": " + e.Reason }

// PanicError is a recovered panic: the entry goes to bad with its message, and
// the queue goes on.
type PanicError struct{ Value any }

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// errDone means the runner disposed of the entry itself (nothing to hand over).
var errDone = errors.New("done")
