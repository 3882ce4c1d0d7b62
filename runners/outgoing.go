package runners

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cloister/listaddr"
	"cloister/lists"
	"cloister/mta"
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

// journalSyncEvery is how many transactions may be journaled between fsyncs.
const journalSyncEvery = 32

// Process implements Runner.
func (Outgoing) Process(ctx context.Context, j *Job) error {
	m := j.Meta.Clone()
	if len(m.Recipients) == 0 {
		j.Log.Info("decision", "decision", "delivered", "recipients", 0)
		return nil
	}
	body, err := j.Body()
	if err != nil {
		return err
	}
	batch := 1
	if m.Kind == "post" {
		err := j.Site.Lists.View(func(tx *lists.Tx) error {
			l, err := tx.List(m.List)
			if err != nil {
				return err
			}
			batch = l.Settings.BatchSize
			return nil
		})
		if err != nil && !errors.Is(err, lists.ErrNoList) {
			return err
		}
	} else {
		batch = len(m.Recipients) // notices name their recipients in To already
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
	done, err := readJournal(jpath)
	if err != nil {
		return err
	}
	var todo []string
	for _, r := range m.Recipients {
		if _, ok := done[r]; !ok {
			todo = append(todo, r)
		}
	}
	jf, err := os.OpenFile(jpath, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("open progress journal: %w", err)
	}
	defer jf.Close()

	client := &mta.Client{Addr: j.Site.Config.SMTPAddr, Helo: j.Site.Config.Domain}
	temp := map[string]string{}
	sess, err := client.Open(ctx)
	if err != nil {
		for _, r := range todo {
			temp[r] = err.Error()
		}
		todo = nil
	} else {
		defer sess.Close()
	}
	delivered, txns := 0, 0
	for len(todo) > 0 {
		n := min(batch, len(todo))
		rcpts := todo[:n]
		todo = todo[n:]
		res, serr := sess.Send(envFrom, rcpts, body)
		var line strings.Builder
		for _, r := range res.Accepted {
			fmt.Fprintf(&line, "ok %s\n", r)
			delivered++
		}
		for r, reply := range res.Perm {
			fmt.Fprintf(&line, "fail %s %s\n", r, oneLine(reply))
			m.Failed = append(m.Failed, queue.Failure{Recipient: r, Reply: reply})
		}
		for r, reply := range res.Temp {
			temp[r] = reply
		}
		if _, err := jf.WriteString(line.String()); err != nil {
			return fmt.Errorf("write progress journal: %w", err)
		}
		txns++
		if txns%journalSyncEvery == 0 {
			if err := jf.Sync(); err != nil {
				return fmt.Errorf("sync progress journal: %w", err)
			}
		}
		if serr != nil { // the connection is gone: the rest waits for a retry
			for _, r := range todo {
				temp[r] = serr.Error()
			}
			todo = nil
		}
	}
	for r, reply := range done {
		if reply != "" {
			m.Failed = append(m.Failed, queue.Failure{Recipient: r, Reply: reply})
		}
	}
	for _, f := range m.Failed {
		j.Log.Warn("recipient refused", "recipient", f.Recipient, "reply", f.Reply)
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
			rm.AddStage("outgoing", fmt.Sprintf("%d recipients deferred", len(rm.Recipients)))
			j.Send(queue.Retry, rm, body)
		}
	}
	j.Log.Info("decision", "decision", "delivered", "kind", m.Kind, "recipients", delivered,
		"deferred", len(temp), "failed", len(m.Failed), "transactions", txns)
	j.AfterFinish(func() { os.Remove(jpath) })
	return nil
}

// readJournal returns the recipients already handled: "" for accepted, the
// reply for refused.
func readJournal(path string) (map[string]string, error) {
	done := map[string]string{}
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return done, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read progress journal: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		kind, rest, _ := strings.Cut(sc.Text(), " ")
		rcpt, reply, _ := strings.Cut(rest, " ")
		switch kind {
		case "ok":
			done[rcpt] = ""
		case "fail":
			done[rcpt] = reply
		}
	}
	return done, nil // a torn last line is ignored: that recipient is tried again
}

func oneLine(s string) string { return strings.Join(strings.Fields(s), " ") }
