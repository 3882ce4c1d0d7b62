package metrics

import (
	"bufio"
	"fmt"
	"io"
	"sort"
	"strings"
	"time"

	"cloister/internal/site"
	"cloister/internal/stats"
	"cloister/queue"
)

// QueueDepth is one queue's size at a scrape.
type QueueDepth struct {
	Name             string
	Pending, Claimed int
	// Oldest is how long the oldest ready entry has waited.
	Oldest time.Duration
}

// Snapshot is everything one scrape exports.
type Snapshot struct {
	Now    time.Time
	Queues []QueueDepth
	Beats  []Beat
}

// Collect reads the queue directories and heartbeat files of a site. It
// opens no database.
func Collect(s *site.Site, now time.Time) (*Snapshot, error) {
	snap := &Snapshot{Now: now}
	for _, name := range queue.Dirs() {
		q := s.Queue(name)
		p, err := q.Pending(queue.All)
		if err != nil {
			return nil, err
		}
		c, err := q.Claimed(queue.All)
		if err != nil {
			return nil, err
		}
		age, err := q.Oldest(now)
		if err != nil {
			return nil, err
		}
		snap.Queues = append(snap.Queues, QueueDepth{Name: name, Pending: len(p), Claimed: len(c), Oldest: age})
	}
	beats, err := ReadBeats(s.Config.StateDir)
	if err != nil {
		return nil, err
	}
	snap.Beats = beats
	return snap, nil
}

// Exported lists every metric family WriteText writes, with its help text;
// docs/operators.md documents the same list.
var Exported = []struct{ Name, Type, Help string }{
	{"cloister_queue_entries", "gauge", "Entries in a queue, by state: pending (waiting or deferred) or claimed (in a runner's hands)."},
	{"cloister_queue_oldest_entry_seconds", "gauge", "How long the oldest ready entry of a queue has waited."},
	{"cloister_runner_up", "gauge", "1 if the runner process exists and its loop ticked within the last 30 s, else 0."},
	{"cloister_runner_last_tick_timestamp_seconds", "gauge", "Unix time of the runner loop's last tick."},
	{"cloister_runner_start_timestamp_seconds", "gauge", "Unix time the runner process started."},
	{"cloister_runner_processed_total", "counter", "Entries the runner finished since it started, by outcome: done, retry (put back for later), requeued (failed attempt), bad."},
	{"cloister_runner_waiting", "gauge", "1 while the runner waits for a temporary condition to clear (a full disk, an I/O error, a database lock held too long), else 0."},
	{"cloister_smtp_recipients_total", "counter", "Recipients handed to the MTA by the outgoing runner, by result: accepted, deferred (4xx), refused (5xx)."},
	{"cloister_smtp_transactions_total", "counter", "SMTP transactions the outgoing runner made."},
	{"cloister_crypto_operations_total", "counter", "Crypto operations, by op: open (decrypt and verify a post, by tech), seal (sign and encrypt a post once), copy (one subscriber's copy)."},
	{"cloister_crypto_microseconds_total", "counter", "Time spent in those crypto operations, in microseconds."},
	{"cloister_egress_refused_total", "counter", "Recipients whose copy the outgoing runner's egress gate refused (a copy carrying an encrypted post that was not an encryption to exactly its recipients), by kind of mail; they wait in bad."},
	{"cloister_decisions_total", "counter", "Decisions the runner made, by decision, spelled as the decision log lines and cloister queue show spell them (accept, hold, reject, delivered, ...)."},
}

// WriteText writes the snapshot in the Prometheus text exposition format
// (version 0.0.4).
func (s *Snapshot) WriteText(w io.Writer) error {
	bw := bufio.NewWriter(w)
	header := func(i int) {
		e := Exported[i]
		fmt.Fprintf(bw, "# HELP %s %s\n# TYPE %s %s\n", e.Name, e.Help, e.Name, e.Type)
	}
	header(0)
	for _, q := range s.Queues {
		fmt.Fprintf(bw, "cloister_queue_entries{queue=%s,state=\"pending\"} %d\n", quote(q.Name), q.Pending)
		fmt.Fprintf(bw, "cloister_queue_entries{queue=%s,state=\"claimed\"} %d\n", quote(q.Name), q.Claimed)
	}
	header(1)
	for _, q := range s.Queues {
		fmt.Fprintf(bw, "cloister_queue_oldest_entry_seconds{queue=%s} %s\n", quote(q.Name), seconds(q.Oldest))
	}
	labels := func(b Beat) string {
		return fmt.Sprintf("runner=%s,slice=%s", quote(b.Runner), quote(sliceLabel(b.Slice)))
	}
	header(2)
	for _, b := range s.Beats {
		up := 0
		if st := b.State(s.Now, MaxTickAge); st == StateAlive || st == StateWaiting {
			up = 1
		}
		fmt.Fprintf(bw, "cloister_runner_up{%s} %d\n", labels(b), up)
	}
	header(3)
	for _, b := range s.Beats {
		fmt.Fprintf(bw, "cloister_runner_last_tick_timestamp_seconds{%s} %s\n", labels(b), unix(b.Tick))
	}
	header(4)
	for _, b := range s.Beats {
		fmt.Fprintf(bw, "cloister_runner_start_timestamp_seconds{%s} %s\n", labels(b), unix(b.Started))
	}
	header(5)
	for _, b := range s.Beats {
		outcomes := make([]string, 0, len(b.Processed))
		for o := range b.Processed {
			outcomes = append(outcomes, o)
		}
		sort.Strings(outcomes)
		for _, o := range outcomes {
			fmt.Fprintf(bw, "cloister_runner_processed_total{%s,outcome=%s} %d\n", labels(b), quote(o), b.Processed[o])
		}
	}
	header(6)
	for _, b := range s.Beats {
		waiting := 0
		if b.Waiting != "" {
			waiting = 1
		}
		fmt.Fprintf(bw, "cloister_runner_waiting{%s} %d\n", labels(b), waiting)
	}
	for i := 7; i < len(Exported); i++ {
		header(i)
		family := strings.TrimPrefix(Exported[i].Name, "cloister_")
		for _, b := range s.Beats {
			for _, k := range stats.Keys(b.Counters) {
				name, lbl, _ := strings.Cut(k, "{")
				if name != family {
					continue
				}
				lbl = strings.TrimSuffix(lbl, "}")
				if lbl != "" {
					lbl = "," + lbl
				}
				fmt.Fprintf(bw, "%s{%s%s} %d\n", Exported[i].Name, labels(b), lbl, b.Counters[k])
			}
		}
	}
	return bw.Flush()
}

func sliceLabel(s string) string {
	if s == "" {
		return "0/1"
	}
	return s
}

// quote escapes a label value as the exposition format wants.
func quote(v string) string {
	r := strings.NewReplacer(`\`, `\\`, "\n", `\n`, `"`, `\"`)
	return `"` + r.Replace(v) + `"`
}

func seconds(d time.Duration) string { return fmt.Sprintf("%.3f", d.Seconds()) }

func unix(t time.Time) string {
	if t.IsZero() {
		return "0"
	}
	return fmt.Sprintf("%.3f", float64(t.UnixNano())/1e9)
}
