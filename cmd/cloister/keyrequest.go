package main

import (
	"fmt"
	"io"
	"os/user"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/commands"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/ownmail"
	"cloister/queue"
	"cloister/service"
)

// operator returns the login name of who runs a CLI command, the console
// actor's Name: the announcements of key changes made on the server name
// them in the list's language (commands.OperatorReason).
func operator() string {
	if u, err := user.Current(); err == nil {
		return u.Username
	}
	return ""
}

// queueNotices hands the notices a command wrote to queue/out.
func queueNotices(s *site.Site, w io.Writer, mails []commands.Outgoing) error {
	for _, o := range mails {
		// The writer signed (and, when Sealed, encrypted) each notice: the
		// recorded protection tells outgoing to send it as it is.
		m := ownmail.Reply(o.List, nil, o.Kind, o.To, o.Sealed, o.Confidential, time.Now())
		m.AddStage("cli", o.Kind)
		if _, err := s.Queue(queue.Out).EnqueueBytes(m, o.Data); err != nil {
			return fmt.Errorf("queue the notice to %s: %w", o.To, err)
		}
		fmt.Fprintf(w, "told %s\n", o.To)
	}
	return nil
}

func (a *app) keyPendingCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "pending [LIST]",
		Short: "List the keys that wait for an owner's approval (key_enrolment owner or vouched)",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			list := ""
			if len(args) == 1 {
				list = listAddress(s, args[0])
			}
			var rs []*lists.KeyRequest
			if err := s.Lists.View(func(tx *lists.Tx) error {
				rs, err = tx.KeyRequestsFor(list)
				return err
			}); err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "LIST\tID\tADDRESS\tFINGERPRINT\tVIA\tMODE\tEXPIRES")
			for _, r := range rs {
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", r.List, r.ID, r.Address, r.Fingerprint, r.Via, r.Mode, r.Expires.UTC().Format(time.DateOnly))
			}
			return w.Flush()
		},
	}
}

// keyDecideCmd is key approve and key refuse.
func (a *app) keyDecideCmd(approve bool) *cobra.Command {
	use, short := "refuse LIST ID", "Refuse a key waiting for approval: nothing is bound, its address is told"
	if approve {
		use, short = "approve LIST ID", "Bind a key waiting for approval (check its fingerprint with the member first); the member and owners are told"
	}
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			// The local site's workflows print what was done and a "told"
			// line for each notice (cliKeyWorkflows).
			actor.Name = operator()
			text, err := api.KeyRequestDecide(cmd.Context(), actor, service.KeyRequestDecideRequest{List: args[0], ID: args[1], Approve: approve})
			if err != nil {
				return cliError(err)
			}
			if a.remoteAPI() != "" {
				// The remote daemon queued the notices; say what it did.
				fmt.Fprintln(cmd.OutOrStdout(), text)
			}
			return nil
		},
	}
}
