package runners

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"cloister/internal/stats"
	"cloister/lists"
	"cloister/mta"
	"cloister/ownmail"
	"cloister/queue"
)

// fanout is one attempt at handing an outgoing entry's copies to the MTA
// on one SMTP session, or on several at once for a large fan-out
// (parallelFanout transactions or more: smtp_sessions of them). Each
// session waits for its transaction's journal lines to be written before it
// starts its next transaction, so a crash of the process repeats at most
// the transactions in flight, one per session; the sessions share the
// writes and the syncs (groupJournal), so a fan-out does not wait for one
// fsync per copy. The wait is put off until the session has its next copy
// in hand (and has passed the egress gate), so that the lines of the
// sessions that finished meanwhile share the write.
type fanout struct {
	j    *Job
	m    *queue.Meta
	list *lists.List
	jn   *groupJournal
	// gate is what each session's own egress gate is made from (a Gate, and
	// its pgp.Checker, is not safe for concurrent use): its Keys and Now.
	gate    ownmail.Gate
	client  *mta.Client
	timeout time.Duration
	envFrom string

	// stopCopies stops the making of copies (makeCopies' context) when the
	// fan-out stops.
	stopCopies func()

	mu                       sync.Mutex // guards everything below and m.Failed
	temp                     map[string]string
	refused                  map[string]string // recipients whose copy the egress gate refused
	delivered, txns, notices int
	err                      error // the first error that stops the fan-out

	waiting atomic.Int32 // sessions in an SMTP transaction (see feedWatchdog)
}

// streamGateAbove is the size above which the egress gate reads a copy
// from its parts as they are written (ownmail.Gate.CheckStream) rather
// than joined into its session's buffer: a large post's copy is not held
// whole beside the post's shared encryption (for a 25 MB post, 35 MB of
// armor), where a small one is checked quicker held whole, its encrypted
// data remembered from the copy before.
const streamGateAbove = 1 << 20

// run sends every unit that comes out of ready on up to sessions SMTP
// sessions and returns the first error that stopped it (the units left
// are drained, their slots freed).
func (f *fanout) run(ctx context.Context, ready <-chan *unit, slots *window, sessions int) error {
	defer f.feedWatchdog()()
	var wg sync.WaitGroup
	for range max(1, sessions) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			f.sender(ctx, ready, slots)
		}()
	}
	wg.Wait()
	// What the sessions wrote is synced before the attempt ends.
	if err := f.jn.finish(ctx, f.j.Log, f.j.Tick); err != nil {
		f.stop(err)
	}
	return f.err
}

// stopped says whether the fan-out has stopped on an error.
func (f *fanout) stopped() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.err != nil
}

func (f *fanout) stop(err error) {
	f.mu.Lock()
	if f.err == nil {
		f.err = err
	}
	f.mu.Unlock()
	if f.stopCopies != nil {
		f.stopCopies()
	}
}

// sender is one SMTP session's loop. A session that fails (a lost
// connection, a deadline passed) is replaced, up to maxSessions per sender
// and attempt: one silent transaction defers its own recipients, not the
// others'. Under PIPELINING (DATA, not BDAT) the session takes the copy
// after the one it sends when that copy is ready already, and sends its
// envelope with the message before it (mta.Session.SendTxn): one write
// and one round trip per copy.
func (f *fanout) sender(ctx context.Context, ready <-chan *unit, slots *window) {
	j := f.j
	gate := &egress{gate: &ownmail.Gate{Keys: f.gate.Keys, Now: f.gate.Now}} // this session's: see fanout.gate
	var sess *mta.Session
	var sessErr error
	opened := 0
	var owed uint64 // this session's journal lines not known durable yet (a groupJournal ticket)
	defer func() {
		// The last transaction's lines are durable before the attempt ends,
		// whatever stopped it.
		if err := f.durable(ctx, owed); err != nil {
			f.stop(err)
		}
		if sess != nil {
			closeSession(sess, j.Tick)
		}
	}()
	var held *unit // the copy after this one, taken ahead and past the gate
	for {
		u := held
		held = nil
		if u == nil {
			var ok bool
			if u, ok = <-ready; !ok {
				return
			}
			if !f.admit(u, gate, slots) {
				continue
			}
		}
		if f.stopped() || ctx.Err() != nil {
			// Drain the workers. A runner that stops starts no more
			// transactions: the entry goes back, and the next attempt
			// sends the rest.
			continue
		}
		if sess == nil && opened < maxSessions {
			opened++
			sess, sessErr = openSession(ctx, f.client, f.timeout, j.Tick)
		}
		if sess == nil {
			f.mu.Lock()
			for _, r := range u.rcpts {
				if _, ok := f.refused[r]; !ok {
					f.temp[r] = sessErr.Error()
				}
			}
			f.mu.Unlock()
			continue
		}
		if sess.Pipelining() && !sess.Chunking() {
			held = f.takeReady(ready, gate, slots)
		}
		// The previous transaction's lines are durable before this one
		// starts; the wait comes once the next copy is in hand, so that
		// the lines of the sessions that finished meanwhile share its sync.
		if err := f.durable(ctx, owed); err != nil {
			f.stop(err)
			continue
		}
		owed = 0
		var next *mta.Txn
		if held != nil {
			next = held.tx
		}
		f.waiting.Add(1) // the wait is bounded by the SMTP deadlines: the watchdog is fed
		res, serr := sess.SendTxn(u.tx, next)
		f.waiting.Add(-1)
		u.tx, u.parts, u.data = nil, nil, nil
		var err error
		if owed, err = f.settle(ctx, u, res); err != nil {
			f.stop(err)
			continue
		}
		if j.Tick != nil {
			j.Tick() // a long fan-out is progress: the watchdog is fed per transaction
		}
		if serr != nil { // the connection is gone: the next unit opens another
			j.Log.Warn("SMTP session failed; recipients deferred", "recipients", len(res.Temp), "err", serr)
			sessErr = serr
			closeSession(sess, j.Tick)
			sess = nil
		}
	}
}

// admit takes a unit received from makeCopies: it frees its slot, and
// says whether it is to be sent, with its transaction made. A copy that
// could not be made stops the fan-out (not the subscriber's fault: the
// journal keeps what was sent); a copy the egress gate refuses is not
// sent, and its recipients are recorded as refused.
func (f *fanout) admit(u *unit, gate *egress, slots *window) bool {
	freeSlot(u, slots)
	if f.stopped() {
		return false // drain the workers
	}
	if u.err != nil {
		f.stop(u.err)
		return false
	}
	m := f.m
	// The egress gate: the last check before the wire (security invariant 2).
	if gerr := gate.check(m, u); gerr != nil {
		f.j.Log.Error("egress refused", "recipients", len(u.rcpts), "reason", gerr.Error())
		f.mu.Lock()
		for _, r := range u.rcpts {
			f.refused[r] = gerr.Error()
			delete(f.temp, r) // not retried: a session may have failed to open
		}
		f.mu.Unlock()
		return false
	}
	from := f.envFrom
	if m.Kind == "post" && len(u.rcpts) == 1 {
		from = f.j.Site.VERP(m.List, u.rcpts[0], f.j.Now) // a bounce names its subscriber, signed
	}
	parts := u.parts
	if parts == nil {
		parts = []*mta.Part{mta.NewPart(u.data)}
	}
	u.tx = &mta.Txn{From: from, To: u.rcpts, Parts: parts}
	return true
}

// takeReady returns the next unit to send if one is ready now, admitted,
// else nil without waiting.
func (f *fanout) takeReady(ready <-chan *unit, gate *egress, slots *window) *unit {
	for {
		select {
		case u, ok := <-ready:
			if !ok {
				return nil
			}
			if f.admit(u, gate, slots) {
				return u
			}
		default:
			return nil
		}
	}
}

// feedWatchdog calls the job's Tick every tickEvery while a session of the
// fan-out waits on the MTA, until the returned function is called: one
// ticker for the fan-out, where each transaction had its own. Only waits
// bounded by the SMTP deadlines count, so a runner stuck for good still
// stops feeding the watchdog.
func (f *fanout) feedWatchdog() (stop func()) {
	tick := f.j.Tick
	if tick == nil {
		return func() {}
	}
	done := make(chan struct{})
	every := tickEvery // read here: the goroutine may start after the fan-out ended
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if f.waiting.Load() > 0 {
					tick()
				}
			}
		}
	}()
	return func() { close(done) }
}

// settle records one transaction's result: the journal lines are taken
// (durable once f.durable of the returned ticket returns), and the 5xx
// refusals are scored (which makes the lines before them durable).
func (f *fanout) settle(ctx context.Context, u *unit, res mta.Result) (uint64, error) {
	stats.Add("outgoing", `smtp_recipients_total{result="accepted"}`, int64(len(res.Accepted)))
	stats.Add("outgoing", `smtp_recipients_total{result="deferred"}`, int64(len(res.Temp)))
	stats.Add("outgoing", `smtp_recipients_total{result="refused"}`, int64(len(res.Perm)))
	stats.Add("outgoing", "smtp_transactions_total", 1)
	var line strings.Builder
	var perm []queue.Failure
	f.mu.Lock()
	for _, r := range res.Accepted {
		fmt.Fprintf(&line, "ok %s\n", r)
		f.delivered++
		if u.notice {
			f.notices++
		}
	}
	for r, reply := range res.Perm {
		fmt.Fprintf(&line, "fail %s %s\n", r, oneLine(reply))
		f.m.Failed = append(f.m.Failed, queue.Failure{Recipient: r, Reply: reply})
		perm = append(perm, queue.Failure{Recipient: r, Reply: reply})
	}
	for r, reply := range res.Temp {
		f.temp[r] = reply
	}
	f.txns++
	f.mu.Unlock()
	faultAt(PointAccepted) // crash tests only: the reply is in, the journal not yet
	// Durable before this session's next transaction (f.durable).
	ticket := f.jn.add(line.String())
	if len(perm) > 0 {
		// Synced before the scores are counted, so that no crash counts a
		// refusal twice.
		if err := f.durable(ctx, ticket); err != nil {
			return 0, err
		}
		if err := f.jn.sync(ctx, f.j.Log, f.j.Tick); err != nil {
			return 0, err
		}
		ticket = 0
	}
	return ticket, scoreRefusals(ctx, f.j, f.jn, f.m, f.list, perm)
}

// durable returns once the journal lines of ticket (from groupJournal.add)
// are written, so that a crash of the process does not repeat their
// transaction (the group commit syncs them shortly after); a failed write
// waits here. Ticket 0 is nothing owed.
func (f *fanout) durable(ctx context.Context, ticket uint64) error {
	if ticket == 0 {
		return nil
	}
	if err := f.jn.wait(ctx, f.j.Log, ticket, f.j.Tick); err != nil {
		return err
	}
	faultAt(PointJournaled)
	return nil
}

// groupJournal lets several sessions record into one progress journal at
// once (group commit). Lines added while a write is under way are written
// together by the next one, and a session's wait returns once its lines
// are written: from then on a crash of the process does not lose them (they
// are in the kernel's page cache), so it repeats at most the transactions
// in flight, one per session. What is written is synced (fdatasync) at most
// journalSyncWithin later, by a timer, and whole at the fan-out's end
// (finish): a crash of the machine repeats those transactions and the ones
// accepted in that last interval, and a fan-out makes one sync per interval
// instead of one per copy (a sync costs 35-110 µs of CPU here, more than
// a copy's encryption, and waits on the disk the MTA syncs its own queue
// files to).
type groupJournal struct {
	jn *journal

	mu      sync.Mutex
	cond    *sync.Cond
	pending strings.Builder
	queued  uint64      // records taken
	written uint64      // records written: they survive a crash of the process
	synced  uint64      // records synced: they survive a crash of the machine
	busy    bool        // a write or sync is under way
	timer   *time.Timer // the sync of what is written, due; nil when none is
	closed  bool        // finish was called: the timer syncs nothing more
	err     error       // a write that failed (ctx done): every later one fails
	syncs   int         // syncs made (for tests)
}

// journalSyncWithin is the longest a written journal line waits for its
// sync (the group commit's interval).
var journalSyncWithin = 10 * time.Millisecond

func newGroupJournal(jn *journal) *groupJournal {
	g := &groupJournal{jn: jn}
	g.cond = sync.NewCond(&g.mu)
	return g
}

// record makes lines durable (written and synced) before it returns, as
// journal.record does.
func (g *groupJournal) record(ctx context.Context, log *slog.Logger, lines string, tick func()) error {
	if t := g.add(lines); t != 0 {
		if err := g.wait(ctx, log, t, tick); err != nil {
			return err
		}
	}
	return g.sync(ctx, log, tick)
}

// add takes lines for the journal without waiting and returns their
// ticket for wait (0 for no lines).
func (g *groupJournal) add(lines string) uint64 {
	if lines == "" {
		return 0
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.pending.WriteString(lines)
	g.queued++
	return g.queued
}

// wait returns once the lines of ticket me, and every line added before
// them, are written: it writes what is pending itself unless another wait
// is writing or syncing, and then waits for that one. It sets the timer
// that syncs them.
func (g *groupJournal) wait(ctx context.Context, log *slog.Logger, me uint64, tick func()) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for g.written < me {
		if g.err != nil {
			return g.err
		}
		if g.busy {
			g.cond.Wait()
			continue
		}
		batch, upto := g.pending.String(), g.queued
		g.pending.Reset()
		if !g.exclusive(func() error { return g.jn.put(ctx, log, batch, tick) }) {
			continue
		}
		g.written = upto
		if g.timer == nil && !g.closed && g.synced < g.written {
			g.timer = time.AfterFunc(journalSyncWithin, func() {
				g.mu.Lock()
				g.timer = nil
				g.mu.Unlock()
				if err := g.sync(ctx, log, tick); err != nil {
					log.Warn("progress journal not synced", "err", err)
				}
			})
		}
	}
	return nil
}

// exclusive runs fn, a write or sync of the journal, as the one under way:
// called with g.mu held, it releases it while fn runs, and wakes the
// waiters after. It reports whether fn succeeded; a failure is kept in
// g.err for every later call.
func (g *groupJournal) exclusive(fn func() error) bool {
	g.busy = true
	g.mu.Unlock()
	err := fn()
	g.mu.Lock()
	g.busy = false
	g.cond.Broadcast()
	if err != nil {
		g.err = err
		return false
	}
	return true
}

// sync returns once every line written so far is synced (waiting for a
// write or sync under way first).
func (g *groupJournal) sync(ctx context.Context, log *slog.Logger, tick func()) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		if g.err != nil {
			return g.err
		}
		if g.synced >= g.written {
			return nil
		}
		if g.busy {
			g.cond.Wait()
			continue
		}
		upto := g.written
		if g.exclusive(func() error { return g.jn.sync(ctx, log, tick) }) {
			g.synced = upto
			g.syncs++
		}
	}
}

// finish syncs everything written and stops the timer: called once the
// sessions are done, before the journal is closed.
func (g *groupJournal) finish(ctx context.Context, log *slog.Logger, tick func()) error {
	g.mu.Lock()
	g.closed = true
	if g.timer != nil {
		g.timer.Stop() // a timer that fired already syncs nothing left, or waits for this sync
		g.timer = nil
	}
	g.mu.Unlock()
	return g.sync(ctx, log, tick)
}

// egress is one SMTP session's egress gate, with the buffer it joins the
// small copies it checks into: one buffer for the session's copies, where
// each copy was joined into a new slice.
type egress struct {
	gate   *ownmail.Gate
	joined []byte
}

// check passes or refuses a unit's copy at the gate. Only entries the gate
// checks pay for the join; the joined bytes are not kept past the check
// (the transaction sends the parts), so the next check reuses them. A
// copy over streamGateAbove is read from its parts as they are written.
func (e *egress) check(m *queue.Meta, u *unit) error {
	if u.parts == nil || !m.Confidential() || u.notice {
		return e.gate.Check(m, u.data, u.rcpts, u.notice)
	}
	if mta.Size(u.parts) > streamGateAbove {
		pr, pw := io.Pipe()
		wrote := make(chan struct{})
		go func() {
			defer close(wrote)
			pw.CloseWithError(mta.WriteParts(pw, u.parts))
		}()
		err := e.gate.CheckStream(m, pr, u.rcpts, u.notice)
		pr.Close() // a gate that stopped early ends the writer
		<-wrote
		return err
	}
	data := mta.AppendJoin(e.joined[:0], u.parts)
	if data != nil {
		e.joined = data
	}
	return e.gate.Check(m, data, u.rcpts, u.notice)
}
