package runners

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"cloister/distribute"
	"cloister/internal/decision"
	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/mta"
	"cloister/ownmail"
	"cloister/queue"
)

// Outgoing hands mail to the MTA over SMTP: the envelope sender is
// LIST-bounces@DOMAIN, recipients go in transactions of the list's batch_size.
// Each transaction's result is appended to a progress journal before the next
// one starts, so a crash mid-fan-out does not resend to recipients the MTA
// already accepted (at most the last unsynced group is repeated). Recipients
// refused with 4xx go to the retry queue with a backoff until the give-up age;
// 5xx refusals are recorded on the entry and logged.
type Outgoing struct{}

// Name implements Runner.
func (Outgoing) Name() string { return "outgoing" }

// Queue implements Runner.
func (Outgoing) Queue() string { return queue.Out }

// Description implements Runner.
func (Outgoing) Description() string {
	return "hand mail to the MTA over SMTP in batches; temporary failures go to retry"
}

// Process implements Runner.
func (Outgoing) Process(ctx context.Context, j *Job) error {
	m := j.Meta.Clone()
	if len(m.Recipients) == 0 {
		j.Log.Info("decision", "decision", decision.Delivered, "recipients", 0)
		return nil
	}
	var list *lists.List
	if m.List != "" {
		err := j.Site.Lists.View(func(tx *lists.Tx) error {
			var err error
			list, err = tx.List(m.List)
			return err
		})
		if err != nil && !errors.Is(err, lists.ErrNoList) {
			return err
		}
	}
	if list != nil && j.Site.Keys != nil {
		// The list's keys are unlocked (and kept) before the post is read:
		// the unlock's Argon2id memory is gone by then (the keyring collects
		// it), not held alongside a large post. Errors are the
		// distributor's to report.
		j.Site.Keys.ListPGP(list.Address)
		j.Site.Keys.ListSMIME(list.Address)
	}
	body, err := j.Body()
	if err != nil {
		return err
	}
	if len(body) >= largePost {
		defer tightGC()()
	}
	batch := len(m.Recipients) // notices name their recipients in To already
	var dist *distribute.Distributor
	// Cloister's own mail that its writer already signed or encrypted (command
	// replies) leaves as it is: its metadata says so (package ownmail); its bytes
	// are never read to decide. The egress gate still checks every copy.
	ownSealed := m.Kind != "post" && (m.WriterSigned || m.Protection() == queue.CarriesSealed)
	if list != nil && !ownSealed {
		if m.Kind == "post" {
			batch = list.Settings.BatchSize
		}
		if dist, err = distribute.New(j.Site, list, m, body, j.Body, j.Now, m.Kind != "post"); err != nil {
			return permanentPost(err)
		}
		if !dist.NeedsCrypto() {
			dist = nil
		} else {
			// The distributor holds the post until it is sealed, and reads it
			// again if a copy needs it; nor is it held here for the whole
			// fan-out (a 25 MB post to a thousand subscribers): an entry
			// for bad or retry reads it again.
			body = nil
		}
	} else if !ownSealed && m.Protection() == queue.CarriesPlaintext {
		return Permanent("list %s no longer exists; mail carrying its encrypted post cannot be distributed", m.List)
	}
	if batch < 1 {
		batch = 1
	}
	envFrom := m.EnvFrom
	if envFrom == "" {
		envFrom = listaddr.Address(m.List, queue.SubBounces)
	}
	if m.FirstTry.IsZero() {
		m.FirstTry = j.Now
	}

	jpath := filepath.Join(j.Entry.Queue.Dir, ".progress-"+m.ID)
	jn, done, scored, err := openJournal(jpath)
	if err != nil {
		return err
	}
	defer jn.Close()
	// Refusals journaled by an earlier attempt but not yet scored.
	var unscored []queue.Failure
	for r, reply := range done {
		if reply != "" && !scored[r] {
			unscored = append(unscored, queue.Failure{Recipient: r, Reply: reply})
		}
	}
	gj := newGroupJournal(jn)
	if err := scoreRefusals(ctx, j, gj, m, list, unscored); err != nil {
		return err
	}
	var todo []string
	for _, r := range m.Recipients {
		if _, ok := done[r]; !ok {
			todo = append(todo, r)
		}
	}

	// Plan the transactions: plaintext copies share one body in batches of
	// batch_size; signed or encrypted copies are made per subscriber by a
	// bounded pool of workers while the SMTP session sends what is ready.
	var units []*unit
	if dist == nil {
		shared := []*mta.Part{mta.NewPart(body)} // encoded for the wire once
		for len(todo) > 0 {
			n := min(batch, len(todo))
			units = append(units, &unit{rcpts: todo[:n], data: body, parts: shared})
			todo = todo[n:]
		}
	} else if m.Kind == "post" && batch > 1 {
		// batch_size > 1: OpenPGP subscribers share one copy per batch, each
		// key packet with a hidden key ID when hidden_recipients is on, its
		// key ID otherwise (S/MIME only when hidden_recipients is off: its
		// RecipientInfos name each certificate).
		for len(todo) > 0 {
			n := min(batch, len(todo))
			units = append(units, &unit{rcpts: todo[:n]})
			todo = todo[n:]
		}
	} else {
		for _, r := range todo {
			units = append(units, &unit{rcpts: []string{r}})
		}
	}
	// The copies are made under a context of their own: a fan-out that
	// stops (an error, the runner stopping) makes no more of them.
	copyCtx, stopCopies := context.WithCancel(ctx)
	defer stopCopies()
	ready, slots := makeCopies(copyCtx, units, dist)

	// Every wait on the MTA is bounded (connect, each command, the end of
	// DATA) by smtp_timeout_seconds, below the systemd watchdog: a silent
	// MTA defers the rest of the fan-out instead of getting the runner killed.
	timeout := j.Site.Config.SMTPTimeout()
	f := &fanout{
		j: j, m: m, list: list, jn: gj, envFrom: envFrom, timeout: timeout,
		gate: ownmail.Gate{Keys: j.Site.Keys, Now: j.Now},
		client: &mta.Client{Addr: j.Site.Config.SMTPAddr, Helo: j.Site.Config.Domain, Timeout: timeout,
			NoChunking: !j.Site.Config.SMTPChunking},
		temp: map[string]string{}, refused: map[string]string{},
		stopCopies: stopCopies,
	}
	// A large fan-out goes out on several sessions at once; a small one on
	// one, so that a crash repeats at most the one transaction in flight.
	sessions := 1
	if len(units) >= parallelFanout {
		sessions = j.Site.Config.SMTPSessions
	}
	if err := f.run(ctx, ready, slots, sessions); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		// The runner is stopping: the copies not made or not sent are
		// neither delivered nor deferred. The entry goes back to the queue
		// as it is and the next attempt sends only what the journal does
		// not hold.
		return fmt.Errorf("fan-out stopped with the runner: %w", err)
	}
	temp, refused := f.temp, f.refused
	delivered, txns, notices := f.delivered, f.txns, f.notices
	for r, reply := range done {
		if reply != "" {
			m.Failed = append(m.Failed, queue.Failure{Recipient: r, Reply: reply})
		}
	}
	for _, f := range m.Failed {
		j.Log.Warn("recipient refused", "recipient", f.Recipient, "reply", f.Reply)
	}
	if len(refused) > 0 {
		if len(refused) == len(todo) && len(done) == 0 {
			// Nothing of the entry left: the loop parks it in bad as it is.
			return Permanent("%s", firstReason(m.Recipients, refused))
		}
		// Some copies went: only the refused recipients are parked in bad,
		// with the reason; the others are delivered or retried as usual.
		bm := m.Clone()
		bm.Recipients, bm.Failed = nil, nil
		for _, r := range m.Recipients {
			if _, ok := refused[r]; ok {
				bm.Recipients = append(bm.Recipients, r)
			}
		}
		bm.Reason = firstReason(bm.Recipients, refused)
		bm.AddStage("outgoing", fmt.Sprintf("egress gate refused %d recipients", len(bm.Recipients)))
		if body, err = postBody(j, body); err != nil {
			return err
		}
		j.Send(queue.Bad, bm, body)
	}
	if len(temp) > 0 {
		giveUp := time.Duration(j.Site.Config.RetryGiveUpHours) * time.Hour
		if j.Now.Sub(m.FirstTry) > giveUp {
			for r, reply := range temp {
				m.Failed = append(m.Failed, queue.Failure{Recipient: r, Reply: "gave up: " + reply})
				j.Log.Warn("recipient given up", "recipient", r, "reply", reply)
			}
		} else {
			rm := m.Clone()
			rm.Recipients = rm.Recipients[:0]
			for _, r := range m.Recipients {
				if _, ok := temp[r]; ok {
					rm.Recipients = append(rm.Recipients, r)
				}
			}
			tries := 1
			for _, h := range m.History {
				if h.Runner == "retry" {
					tries++
				}
			}
			rm.NextTry = j.Now.Add(Backoff(tries, time.Minute, 4*time.Hour))
			rm.LastError = DeferralReason(temp)
			j.Log.Warn("delivery deferred", "recipients", len(rm.Recipients), "next_try", rm.NextTry, "reason", rm.LastError)
			rm.AddStage("outgoing", fmt.Sprintf("%d recipients deferred: %s", len(rm.Recipients), rm.LastError))
			if body, err = postBody(j, body); err != nil {
				return err
			}
			j.Send(queue.Retry, rm, body)
		}
	}
	j.Log.Info("decision", "decision", decision.Delivered, "kind", m.Kind, "recipients", delivered,
		"no_key_notices", notices, "deferred", len(temp), "failed", len(m.Failed), "transactions", txns,
		"egress_refused", len(refused))
	// The subscriber keys judged for this fan-out are not verified again by
	// the next process (keyring/pgpchecks.go).
	if k := j.Site.Keyring; k != nil && dist != nil {
		if err := k.SaveChecks(); err != nil {
			j.Log.Warn("signature checks not kept for the next process", "err", err)
		}
	}
	j.AfterFinish(func() { os.Remove(jpath) })
	return nil
}

// largePost is the size of an entry from which its fan-out runs the
// garbage collector more often (tightGC).
const largePost = 4 << 20

// gcTight counts the fan-outs under tightGC and keeps the setting before.
var gcTight struct {
	sync.Mutex
	n, old int
}

// tightGC makes the garbage collector run when the heap has grown by a
// tenth (GOGC=10) until the returned function is called, for a large post:
// at the default of 100 the heap may reach twice what is live, and what is
// live while a 25 MB post is sealed is the post and its encrypted body, so
// the process would peak at four times the post and more. What is live is
// mostly large byte slices without pointers, which the collector marks at
// little cost. Fan-outs under way at once share the setting; the last one
// restores it.
func tightGC() (restore func()) {
	gcTight.Lock()
	defer gcTight.Unlock()
	if gcTight.n == 0 {
		gcTight.old = debug.SetGCPercent(10)
	}
	gcTight.n++
	return func() {
		gcTight.Lock()
		defer gcTight.Unlock()
		if gcTight.n--; gcTight.n == 0 {
			debug.SetGCPercent(gcTight.old)
		}
	}
}

// postBody returns body, or the entry's body read again when it was let go
// of during the fan-out.
func postBody(j *Job, body []byte) ([]byte, error) {
	if body != nil {
		return body, nil
	}
	return j.Body()
}

// scoreRefusals counts the 5xx refusals of a post's members (at RCPT or at
// the end of DATA) towards their bounce scores, as a delivery report would
// (scoreBounce), and journals each as scored. The MTA refused those
// recipients itself, so it sends no report for them: nothing is counted
// twice. Refusals that name the sender or the MTA rather than the
// recipient (RFC 3463 X.1.7, X.1.8, X.3.x, X.5.x) are not the member's
// doing and are not scored.
func scoreRefusals(ctx context.Context, j *Job, jn *groupJournal, m *queue.Meta, list *lists.List, fails []queue.Failure) error {
	if len(fails) == 0 || list == nil || m.Kind != "post" {
		return nil
	}
	var line strings.Builder
	for _, f := range fails {
		status := replyStatus(f.Reply)
		if !recipientStatus(status) {
			j.Log.Warn("refusal not scored: it is not about the recipient", "recipient", f.Recipient, "reply", oneLine(f.Reply))
		} else if err := scoreBounce(j, list.Address, f.Recipient, status, f.Reply); err != nil && !errors.Is(err, lists.ErrNoList) {
			return fmt.Errorf("score refusal of %s: %w", f.Recipient, err)
		}
		fmt.Fprintf(&line, "scored %s\n", f.Recipient)
	}
	return jn.record(ctx, j.Log, line.String(), j.Tick)
}

// replyStatus returns an SMTP reply's enhanced status code (RFC 3463, such
// as 5.1.1), else its basic code.
func replyStatus(reply string) string {
	f := strings.Fields(reply)
	if len(f) > 1 && enhancedCode.MatchString(f[1]) {
		return f[1]
	}
	if len(f) > 0 {
		return f[0]
	}
	return ""
}

var enhancedCode = regexp.MustCompile(`^[245]\.\d{1,3}\.\d{1,3}$`)

// recipientStatus says whether a refusal's status is about the recipient.
func recipientStatus(status string) bool {
	for _, p := range []string{"5.1.7", "5.1.8", "5.3.", "5.5."} {
		if status == p || strings.HasPrefix(status, p) && strings.HasSuffix(p, ".") {
			return false
		}
	}
	return true
}

// parallelFanout is the number of transactions from which an entry's copies
// go out on smtp_sessions sessions at once (each session's transaction in
// flight may be repeated after a crash); below it, on one session.
const parallelFanout = 64

// maxSessions is how many SMTP sessions each sender of an attempt at an
// entry opens at most (see fanout); past that, the rest of its share of the
// fan-out waits for a retry.
const maxSessions = 3

// openSession connects to the MTA within the SMTP deadline, feeding the
// watchdog meanwhile.
func openSession(ctx context.Context, c *mta.Client, timeout time.Duration, tick func()) (*mta.Session, error) {
	octx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	defer tickWhile(tick)()
	return c.Open(octx)
}

// closeSession ends a session (QUIT waits at most one command deadline).
func closeSession(s *mta.Session, tick func()) {
	defer tickWhile(tick)()
	s.Close()
}

// tickEvery is how often a job waiting on the MTA feeds the watchdog.
var tickEvery = 10 * time.Second

// tickWhile calls tick every tickEvery until the returned function is
// called. Only waits bounded by a deadline are fed this way, so a runner
// stuck for good still stops feeding the watchdog.
func tickWhile(tick func()) (stop func()) {
	if tick == nil {
		return func() {}
	}
	done := make(chan struct{})
	every := tickEvery // read here: the goroutine may start after the caller returned
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				tick()
			}
		}
	}()
	return func() { close(done) }
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// unit is one SMTP transaction: its recipients and its message, whole
// (data) or in parts that copies share (parts, see mta.Part).
type unit struct {
	tx     *mta.Txn // once admitted for sending (fanout.admit)
	rcpts  []string
	data   []byte
	parts  []*mta.Part
	notice bool // a no-key notice instead of the post
	slot   bool // holds a slot of makeCopies: the reader frees it on receipt
	err    error
}

// unitOf is the unit that sends a copy the distributor made.
func unitOf(c *distribute.Copy) *unit {
	return &unit{rcpts: c.Rcpts, data: c.Data, parts: c.Parts, notice: c.Notice, err: permanentPost(c.Err)}
}

// permanentPost makes the error of a post that can never be distributed
// (distribute.ErrUnreadablePost) permanent: the entry goes to bad.
func permanentPost(err error) error {
	if errors.Is(err, distribute.ErrUnreadablePost) {
		return Permanent("%v", err)
	}
	return err
}

// copyBudget bounds the bytes of the copies made ahead of the SMTP session
// (about 64 MB): a large post is encrypted for fewer subscribers at a time,
// so that memory does not grow with the pool of workers.
var copyBudget = 64 << 20

// makeCopies fills in the units' messages (with dist, per subscriber, on a
// bounded pool of workers) and yields them as they are ready. Memory is
// bounded by the pool, not by the number of subscribers.
//
// At most the window's size of units are being made or waiting at a time:
// copiesPerWorker per worker, fewer when they would pass copyBudget, one at
// least; they are made in bursts of half the window (see window). The
// reader must free a unit's slot (freeSlot) as it receives it.
func makeCopies(ctx context.Context, units []*unit, dist *distribute.Distributor) (ready <-chan *unit, slots *window) {
	workers := runtime.GOMAXPROCS(0)
	n := copiesPerWorker * workers
	if dist != nil {
		n = max(1, min(n, copyBudget/max(1, dist.CopySize())))
	}
	slots = newWindow(n)
	// Room for every unit the window lets be made: a worker does not wait
	// to hand over a copy (a batch's copies, one slot for them all, may).
	out := make(chan *unit, n)
	if dist == nil {
		go func() {
			defer close(out)
			for _, u := range units {
				out <- u
			}
		}()
		return out, slots
	}
	in := make(chan *unit, n)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for u := range in {
				if err := ctx.Err(); err != nil {
					// The fan-out stopped: the unit goes back unmade.
					u.slot, u.err = true, err
					out <- u
					continue
				}
				if len(u.rcpts) > 1 {
					copies := dist.Batch(u.rcpts)
					last := len(copies) - 1
					for i, c := range copies {
						part := unitOf(c)
						part.slot = i == last
						out <- part
					}
					continue
				}
				u.slot = true
				c := &distribute.Copy{Rcpts: u.rcpts}
				dist.Fill(c)
				u.data, u.parts, u.notice, u.err = c.Data, c.Parts, c.Notice, permanentPost(c.Err)
				out <- u
			}
		}()
	}
	go func() {
		defer close(in)
		for len(units) > 0 {
			k := slots.take(ctx, len(units))
			if k == 0 {
				return // ctx is done
			}
			for _, u := range units[:k] {
				in <- u // in has room for the window
			}
			units = units[k:]
		}
	}()
	go func() { wg.Wait(); close(out) }()
	return out, slots
}

// copiesPerWorker is the window of copies made ahead per worker when they
// fit in copyBudget (32 on two cores: 2.4 MB of a 50 KB encrypted post's
// copies): made in bursts of half of it, they wake the workers once per
// burst.
const copiesPerWorker = 16

// freeSlot frees the slot a received unit holds.
func freeSlot(u *unit, slots *window) {
	if u.slot {
		u.slot = false
		slots.release()
	}
}

// firstReason returns the gate's reason for the first refused recipient.
func firstReason(rcpts []string, refused map[string]string) string {
	for _, r := range rcpts {
		if why, ok := refused[r]; ok {
			return why
		}
	}
	return "egress gate refused the copies"
}
