package main

import (
	"fmt"
	"strings"

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
				switch style {
				case "socketmap":
					m, mc := mta.PostfixSocketmap(s.Config.SocketmapListen, deliver, cfg)
					fmt.Fprintf(out, "# Postfix asks `cloister mta socketmap` (listening on %s) for the lists\n# and domains: run it (cloister-socketmap.service), then nothing is to be\n# done after a list create or delete.\n# append to /etc/postfix/master.cf\n%s\n# main.cf (postconf -e each line)\n%s",
						s.Config.SocketmapListen, m, mc)
				case "aliases":
					fmt.Fprint(out, mta.PostfixAliases(addrs, deliver, cfg))
				case "transport":
					t, r, m, mc := mta.PostfixTransport(s.Config.Domain, addrs, deliver, cfg)
					fmt.Fprintf(out, "# /etc/postfix/cloister_transport (postmap it)\n%s\n# /etc/postfix/cloister_recipients (postmap it)\n%s\n# append to /etc/postfix/master.cf\n%s\n# main.cf (postconf -e each line)\n%s", t, r, m, mc)
				default:
					return fmt.Errorf("--style %q: want socketmap, transport or aliases", style)
				}
			case "exim":
				if !cmd.Flags().Changed("exim-lists") && s.Config.MTAListsFile != "" {
					eximLists = s.Config.MTAListsFile
				}
				note := "# (rewrite it after creating or deleting a list, or set mta_lists_file)"
				if eximLists == s.Config.MTAListsFile {
					note = "# (mta_lists_file: Cloister rewrites it atomically after every list create and delete)"
				}
				fmt.Fprintf(out, "# Cloister for Exim 4: three pieces.\n# --- lists file: %s ---\n%s\n%s\n%s",
					eximLists, note, mta.EximLists(addrs), mta.Exim(eximDomains(s.Config.ServedDomains()), deliver, cfg, eximLists))
			default:
				return fmt.Errorf("--mta %q: want postfix or exim", which)
			}
			return nil
		},
	}
	c.Flags().StringVar(&which, "mta", "postfix", "postfix or exim")
	c.Flags().StringVar(&deliver, "deliver", mta.DefaultDeliver, "path of the deliver binary")
	c.Flags().StringVar(&eximLists, "exim-lists", mta.DefaultEximLists, "exim only: the file the router looks list addresses up in")
	c.Flags().StringVar(&style, "style", "socketmap", "postfix only: socketmap (lookups kept current by cloister mta socketmap, preferred), transport (hash maps to postmap after each list change) or aliases (local(8))")
	return c
}

// eximDomains is the domains condition of the Exim router: every served domain.
func eximDomains(domains []string) string { return strings.Join(domains, " : ") }
