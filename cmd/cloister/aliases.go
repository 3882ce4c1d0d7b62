package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"cloister/lists"
	"cloister/mta"
)

func (a *app) aliasesCmd() *cobra.Command {
	var which, deliver, style, eximLists string
	c := &cobra.Command{
		Use:   "aliases",
		Short: "Print what connects the MTA to deliver (Postfix aliases or transport, Exim router)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			var addrs []string
			if err := s.Lists.View(func(tx *lists.Tx) error { addrs, err = tx.ListAddresses(); return err }); err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			cfg := s.Config.Path
			switch which {
			case "postfix":
				if style == "aliases" {
					fmt.Fprint(out, mta.PostfixAliases(addrs, deliver, cfg))
					return nil
				}
				t, r, m, mc := mta.PostfixTransport(s.Config.Domain, addrs, deliver, cfg)
				fmt.Fprintf(out, "# /etc/postfix/cloister_transport (postmap it)\n%s\n# /etc/postfix/cloister_recipients (postmap it)\n%s\n# append to /etc/postfix/master.cf\n%s\n# main.cf (postconf -e each line)\n%s", t, r, m, mc)
			case "exim":
				fmt.Fprintf(out, "# Cloister for Exim 4: three pieces.\n# --- lists file: %s ---\n# (rewrite it after creating or deleting a list)\n%s\n%s",
					eximLists, mta.EximLists(addrs), mta.Exim(s.Config.Domain, deliver, cfg, eximLists))
			default:
				return fmt.Errorf("--mta %q: want postfix or exim", which)
			}
			return nil
		},
	}
	c.Flags().StringVar(&which, "mta", "postfix", "postfix or exim")
	c.Flags().StringVar(&deliver, "deliver", mta.DefaultDeliver, "path of the deliver binary")
	c.Flags().StringVar(&eximLists, "exim-lists", mta.DefaultEximLists, "exim only: the file the router looks list addresses up in")
	c.Flags().StringVar(&style, "style", "transport", "postfix only: transport (pipe(8), preferred) or aliases (local(8))")
	return c
}
