package main

import (
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/internal/metrics"
	"cloister/lists"
	"cloister/queue"
	"cloister/runners"
)

type queueStatus struct {
	Name      string  `json:"name"`
	Pending   int     `json:"pending"`
	Claimed   int     `json:"claimed"`
	OldestSec float64 `json:"oldest_seconds"`
}

type listStatus struct {
	List    string `json:"list"`
	Members int    `json:"members"`
	Held    int    `json:"held"`
	Bad     int    `json:"bad"`
}

// runnerStatus is one runner process as its heartbeat file tells it.
type runnerStatus struct {
	Runner string `json:"runner"`
	Slice  string `json:"slice,omitempty"`
	PID    int    `json:"pid"`
	// State is alive, waiting (alive, and waiting for a temporary condition
	// to clear: a full disk, an I/O error, a database lock held too long),
	// stale (no loop tick for 30 s) or gone (the process died without
	// removing its heartbeat file).
	State       string           `json:"state"`
	LastTickSec float64          `json:"last_tick_seconds"`
	Processed   map[string]int64 `json:"processed"`
	// Waiting is the condition a waiting runner waits on.
	Waiting string `json:"waiting,omitempty"`
	// Polling says the runner has no file watcher on its queue and scans it
	// on a timer instead (it logged a warning when it started so).
	Polling bool `json:"polling,omitempty"`
}

type status struct {
	Queues     []queueStatus  `json:"queues"`
	Lists      []listStatus   `json:"lists"`
	BadReasons map[string]int `json:"bad_reasons"`
	Runners    []runnerStatus `json:"runners"`
}

func (a *app) statusCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "status",
		Short: "Queue depths and ages, held and bad entries per list, runners alive",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			st := status{BadReasons: map[string]int{}}
			now := time.Now()
			for _, name := range queue.Dirs() {
				q := s.Queue(name)
				p, err := q.Pending(queue.All)
				if err != nil {
					return err
				}
				b, err := q.Claimed(queue.All)
				if err != nil {
					return err
				}
				age, _ := q.Oldest(now)
				st.Queues = append(st.Queues, queueStatus{name, len(p), len(b), age.Seconds()})
			}
			beats, err := metrics.ReadBeats(s.Config.StateDir)
			if err != nil {
				return err
			}
			st.Runners = []runnerStatus{}
			for _, b := range beats {
				st.Runners = append(st.Runners, runnerStatus{b.Runner, b.Slice, b.PID, b.State(now, metrics.MaxTickAge), now.Sub(b.Tick).Seconds(), b.Processed, b.Waiting,
					b.Counters[runners.PollingCounter] > 0})
			}
			badPerList := map[string]int{}
			bad := s.Queue(queue.Bad)
			names, _ := bad.Pending(queue.All)
			for _, n := range names {
				e, err := bad.Peek(n)
				if err != nil {
					continue
				}
				badPerList[e.Meta.List]++
				st.BadReasons[e.Meta.Reason]++
			}
			err = s.Lists.View(func(tx *lists.Tx) error {
				all, err := tx.Lists()
				if err != nil {
					return err
				}
				for _, l := range all {
					n, err := tx.CountMembers(l.Address)
					if err != nil {
						return err
					}
					h, err := tx.HeldFor(l.Address)
					if err != nil {
						return err
					}
					st.Lists = append(st.Lists, listStatus{l.Address, n, len(h), badPerList[l.Address]})
				}
				return nil
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				b, _ := json.MarshalIndent(st, "", "  ")
				fmt.Fprintf(out, "%s\n", b)
				return nil
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "QUEUE\tPENDING\tCLAIMED\tOLDEST\n")
			for _, q := range st.Queues {
				fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", q.Name, q.Pending, q.Claimed, time.Duration(q.OldestSec*float64(time.Second)).Round(time.Second))
			}
			fmt.Fprintf(w, "\nLIST\tMEMBERS\tHELD\tBAD\n")
			for _, l := range st.Lists {
				fmt.Fprintf(w, "%s\t%d\t%d\t%d\n", l.List, l.Members, l.Held, l.Bad)
			}
			fmt.Fprintf(w, "\nRUNNER\tPID\tSTATE\tLAST TICK\tDONE\tBAD\n")
			if len(st.Runners) == 0 {
				fmt.Fprintf(w, "(none running)\t\t\t\t\t\n")
			}
			for _, r := range st.Runners {
				name := r.Runner
				if r.Slice != "" {
					name += " " + r.Slice
				}
				state := r.State
				if r.State == metrics.StateWaiting {
					state += " (" + r.Waiting + ")"
				}
				if r.Polling {
					state += " (polling: no file watcher)"
				}
				fmt.Fprintf(w, "%s\t%d\t%s\t%s ago\t%d\t%d\n", name, r.PID, state, time.Duration(r.LastTickSec*float64(time.Second)).Round(time.Second), r.Processed["done"], r.Processed["bad"])
			}
			if len(st.BadReasons) > 0 {
				fmt.Fprintf(w, "\nBAD REASON\tCOUNT\n")
				for r, n := range st.BadReasons {
					fmt.Fprintf(w, "%s\t%d\n", r, n)
				}
			}
			return w.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}
