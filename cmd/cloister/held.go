package main

import (
	"fmt"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/lists"
	"cloister/runners"
	"cloister/site"
)

func (a *app) heldCmd() *cobra.Command {
	c := &cobra.Command{Use: "held", Short: "Review and decide on held posts"}
	ls := &cobra.Command{
		Use:   "ls [LIST]",
		Short: "List held posts",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			var held []*lists.Held
			err = s.Lists.View(func(tx *lists.Tx) error {
				if len(args) == 1 {
					held, err = tx.HeldFor(listAddress(s, args[0]))
					return err
				}
				all, err := tx.Lists()
				if err != nil {
					return err
				}
				for _, l := range all {
					h, err := tx.HeldFor(l.Address)
					if err != nil {
						return err
					}
					held = append(held, h...)
				}
				return nil
			})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "ID\tLIST\tFROM\tRECEIVED\tREASON\tSUBJECT\n")
			for _, h := range held {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", h.ID, h.List, h.Sender, h.Received.Format(time.RFC3339), h.Reason, h.Subject)
			}
			return w.Flush()
		},
	}
	show := &cobra.Command{
		Use:   "show ID",
		Short: "Show a held post's record and headers (never the body of an encrypted post)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			var h *lists.Held
			if err := s.Lists.View(func(tx *lists.Tx) error { h, err = tx.Held(args[0]); return err }); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "id:         %s\nlist:       %s\nfrom:       %s\nsubject:    %s\nreason:     %s\nrules:      %s\nreceived:   %s\nexpires:    %s\nfile:       %s\n",
				h.ID, h.List, h.Sender, h.Subject, h.Reason, strings.Join(h.Rules, ", "), h.Received.Format(time.RFC3339), h.Expires.Format(time.RFC3339), h.File)
			m, headers, err := runners.HeldHeaders(s, h)
			if m != nil {
				fmt.Fprintf(out, "decision:   %s\nrule hits:  %s\nrule misses: %s\nencryption: %s\nsignature:  %s\nauth:       %s\n",
					m.Decision, strings.Join(m.RuleHits, ", "), strings.Join(m.RuleMisses, ", "), m.Encryption, m.Verdict, m.Auth)
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(out, "\n%s\n", headers)
			return nil
		},
	}
	by := "operator " + os.Getenv("USER")
	// decide makes the approve, reject and discard commands: each applies
	// its decision to every ID given, stopping at the first failure.
	decide := func(verb, done, short string, apply func(s *site.Site, id string) error) *cobra.Command {
		return &cobra.Command{
			Use:   verb + " ID...",
			Short: short,
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				s, err := a.open()
				if err != nil {
					return err
				}
				for _, id := range args {
					if err := apply(s, id); err != nil {
						return fmt.Errorf("%s %s: %w", verb, id, err)
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", done, id)
				}
				return nil
			},
		}
	}
	approve := decide("approve", "approved", "Approve held posts: they go on to the list",
		func(s *site.Site, id string) error { return runners.Approve(s, id, by) })
	var reason string
	reject := decide("reject", "rejected", "Reject held posts: each sender gets a notice with the reason",
		func(s *site.Site, id string) error { return runners.Reject(s, id, reason, by) })
	reject.Flags().StringVar(&reason, "reason", "", "reason given to the sender")
	discard := decide("discard", "discarded", "Discard held posts without a notice",
		func(s *site.Site, id string) error { return runners.Discard(s, id, by) })
	expire := &cobra.Command{
		Use:   "expire",
		Short: "Drop held posts past their expiry (held_expire_days) with a notice to each sender, and purge the tokens that expired more than a week ago; run daily",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			n, err := runners.ExpireHeld(s, time.Now())
			fmt.Fprintf(cmd.OutOrStdout(), "expired %d held posts, purged %d tokens\n", n.Held, n.Tokens)
			return err
		},
	}
	c.AddCommand(ls, show, approve, reject, discard, expire)
	return c
}
