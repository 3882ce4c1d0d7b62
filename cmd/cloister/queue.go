package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/queue"
	"cloister/service"
)

func (a *app) queueCmd() *cobra.Command {
	c := &cobra.Command{Use: "queue", Short: "Inspect queues and requeue entries"}
	ls := &cobra.Command{
		Use:   "ls [QUEUE]",
		Short: "List the entries of one queue, or the depth of every queue",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			if len(args) == 0 {
				qs, err := api.QueueStatus(cmd.Context(), actor)
				if err != nil {
					return cliError(err)
				}
				fmt.Fprintf(w, "QUEUE\tPENDING\tCLAIMED\tOLDEST\n")
				for _, q := range qs {
					fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", q.Name, q.Pending, q.Claimed, time.Duration(q.OldestSeconds)*time.Second)
				}
				return w.Flush()
			}
			entries, err := api.QueueEntries(cmd.Context(), actor, service.QueueRef{Queue: args[0]})
			if err != nil {
				return cliError(err)
			}
			now := time.Now()
			fmt.Fprintf(w, "ENTRY\tLIST\tSUB\tFROM\tATTEMPTS\tNEXT ATTEMPT\tREASON\n")
			for _, e := range entries {
				if e.Meta == nil {
					fmt.Fprintf(w, "%s\t?\t?\t?\t?\t?\t%s\n", e.Name, e.Error)
					continue
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%d\t%s\t%s\n", e.Name, e.List, e.Subaddress, e.From, e.Attempts,
					nextAttempt(args[0], e.Name, e.Meta, now), oneLineText(e.Reason))
			}
			return w.Flush()
		},
	}
	var showJSON bool
	show := &cobra.Command{
		Use:   "show QUEUE ENTRY",
		Short: "Show an entry's metadata: history, verdicts, rules that fired, reason",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			q, err := queueByName(s.Queue, args[0])
			if err != nil {
				return err
			}
			e, err := q.Peek(strings.TrimSuffix(strings.TrimSuffix(args[1], ".msg"), ".bak"))
			if err != nil {
				return err
			}
			b, _ := json.MarshalIndent(e.Meta, "", "  ")
			out := cmd.OutOrStdout()
			if !showJSON {
				fmt.Fprintf(out, "next attempt: %s\n", nextAttempt(q.Name, e.Name, e.Meta, time.Now()))
				if e.Meta.Reason != "" {
					fmt.Fprintf(out, "reason: %s\n", e.Meta.Reason)
				}
				if e.Meta.LastError != "" {
					fmt.Fprintf(out, "last error: %s\n", e.Meta.LastError)
				}
			}
			fmt.Fprintf(out, "%s\n", b)
			return nil
		},
	}
	show.Flags().BoolVar(&showJSON, "json", false, "print only the metadata, as JSON")
	var to string
	requeue := &cobra.Command{
		Use:   "requeue QUEUE ENTRY...",
		Short: "Put entries back for processing (from bad: into the queue they failed in, or --to)",
		Args:  cobra.MinimumNArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			done, err := api.QueueRequeue(cmd.Context(), actor, service.QueueRequeueRequest{Queue: args[0], Entries: args[1:], To: to})
			for _, d := range done {
				fmt.Fprintf(cmd.OutOrStdout(), "requeued %s to %s\n", d.Entry, d.To)
			}
			if err != nil {
				return cliError(err)
			}
			return nil
		},
	}
	requeue.Flags().StringVar(&to, "to", "", "destination queue")
	c.AddCommand(ls, show, requeue)
	return c
}

func queueByName(get func(string) *queue.Queue, name string) (q *queue.Queue, err error) {
	for _, n := range queue.Dirs() {
		if n == name {
			return get(n), nil
		}
	}
	return nil, fmt.Errorf("no queue named %q (queues: %s)", name, strings.Join(queue.Names, ", "))
}

// oneLineText folds a reason onto one line for a table.
func oneLineText(s string) string { return strings.Join(strings.Fields(s), " ") }

// nextAttempt says when a runner next takes up an entry: in retry, the next
// delivery try; in bad and held, never without an operator; elsewhere when
// the entry is due (now, or the time a failed attempt put it back for).
func nextAttempt(queueName, name string, m *queue.Meta, now time.Time) string {
	switch queueName {
	case queue.Bad:
		return "none (queue requeue)"
	case queue.Held:
		return "none (held)"
	}
	at, ok := queue.ReadyAt(name)
	if queueName == queue.Retry && !m.NextTry.IsZero() {
		at, ok = m.NextTry, true
	}
	if !ok || !at.After(now) {
		return "now"
	}
	return at.UTC().Format(time.RFC3339)
}
