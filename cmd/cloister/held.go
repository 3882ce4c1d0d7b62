package main

import (
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/service"
)

func (a *app) heldCmd() *cobra.Command {
	c := &cobra.Command{Use: "held", Short: "Review and decide on held posts"}
	ls := &cobra.Command{
		Use:   "ls [LIST]",
		Short: "List held posts",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			req := service.HeldListRequest{}
			if len(args) == 1 {
				req.List = args[0]
			}
			held, err := api.HeldList(cmd.Context(), actor, req)
			if err != nil {
				return cliError(err)
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
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			h, err := api.HeldShow(cmd.Context(), actor, service.HeldRef{ID: args[0]})
			if h.ID == "" {
				return cliError(err)
			}
			out := cmd.OutOrStdout()
			fmt.Fprintf(out, "id:         %s\nlist:       %s\nfrom:       %s\nsubject:    %s\nreason:     %s\nrules:      %s\nreceived:   %s\nexpires:    %s\nfile:       %s\n",
				h.ID, h.List, h.Sender, h.Subject, h.Reason, strings.Join(h.Rules, ", "), h.Received.Format(time.RFC3339), h.Expires.Format(time.RFC3339), h.File)
			if h.Decision != "" || h.Encryption != "" || h.Auth != "" {
				fmt.Fprintf(out, "decision:   %s\nrule hits:  %s\nrule misses: %s\nencryption: %s\nsignature:  %s\nauth:       %s\n",
					h.Decision, strings.Join(h.RuleHits, ", "), strings.Join(h.RuleMisses, ", "), h.Encryption, h.Verdict, h.Auth)
			}
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(out, "\n%s\n", h.Headers)
			return nil
		},
	}
	// decide makes the approve, reject and discard commands: each applies
	// its decision to every ID given, stopping at the first failure.
	decide := func(verb, done, short string, apply func(cmd *cobra.Command, api service.API, actor service.Actor, id string) error) *cobra.Command {
		return &cobra.Command{
			Use:   verb + " ID...",
			Short: short,
			Args:  cobra.MinimumNArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				api, actor, err := a.services(cmd)
				if err != nil {
					return err
				}
				for _, id := range args {
					if err := apply(cmd, api, actor, id); err != nil {
						return fmt.Errorf("%s %s: %w", verb, id, cliError(err))
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", done, id)
				}
				return nil
			},
		}
	}
	approve := decide("approve", "approved", "Approve held posts: they go on to the list",
		func(cmd *cobra.Command, api service.API, actor service.Actor, id string) error {
			return api.HeldApprove(cmd.Context(), actor, service.HeldRef{ID: id})
		})
	var reason string
	reject := decide("reject", "rejected", "Reject held posts: each sender gets a notice with the reason",
		func(cmd *cobra.Command, api service.API, actor service.Actor, id string) error {
			return api.HeldReject(cmd.Context(), actor, service.HeldRejectRequest{ID: id, Reason: reason})
		})
	reject.Flags().StringVar(&reason, "reason", "", "reason given to the sender")
	discard := decide("discard", "discarded", "Discard held posts without a notice",
		func(cmd *cobra.Command, api service.API, actor service.Actor, id string) error {
			return api.HeldDiscard(cmd.Context(), actor, service.HeldRef{ID: id})
		})
	expire := &cobra.Command{
		Use:   "expire",
		Short: "Drop held posts past their expiry (held_expire_days) with a notice to each sender, and purge the tokens that expired more than a week ago; run daily",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			n, err := api.HeldExpire(cmd.Context(), actor)
			fmt.Fprintf(cmd.OutOrStdout(), "expired %d held posts, purged %d tokens\n", n.Held, n.Tokens)
			if err != nil {
				return cliError(err)
			}
			return nil
		},
	}
	c.AddCommand(ls, show, approve, reject, discard, expire)
	return c
}
