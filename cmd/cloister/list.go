package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/keyring"
	"cloister/lists"
	"cloister/rules"
	"cloister/runners"
	"cloister/site"
)

// listAddress completes a bare list name with the site's domain.
func listAddress(s *site.Site, name string) string {
	name = strings.ToLower(strings.TrimSpace(name))
	if !strings.Contains(name, "@") {
		name += "@" + s.Config.Domain
	}
	return name
}

// scenarioExists refuses a scenario setting (named after its operation:
// send, admin, ...) that names no built-in or site scenario, so that a typo
// cannot leave a list refusing every request of the operation.
func scenarioExists(s *site.Site, setting string, st lists.Settings) error {
	if !slices.Contains(rules.ScenarioOperations(), setting) {
		return nil
	}
	name, err := st.Value(setting)
	if err != nil {
		return err
	}
	if _, err := runners.Scenarios(s).Get(name); err != nil {
		if errors.Is(err, rules.ErrScenarioNotFound) {
			return fmt.Errorf("%s: no scenario %s (see cloister scenario ls %s)", setting, name, setting)
		}
		return fmt.Errorf("%s: %w", setting, err)
	}
	return nil
}

func (a *app) listCmd() *cobra.Command {
	c := &cobra.Command{Use: "list", Short: "Create, show, change and delete lists"}
	var desc, styleName string
	var owners []string
	create := &cobra.Command{
		Use:   "create LIST",
		Short: "Create a list (LIST is an address or a name in the site's domain)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			l, err := lists.NewList(listAddress(s, args[0]), time.Now())
			if err != nil {
				return err
			}
			l.Description = desc
			var st *style
			var k *keyring.Keyring
			if styleName != "" {
				if st, err = loadStyle(s, styleName); err != nil {
					return err
				}
				if err := st.apply(s, l); err != nil {
					return err
				}
				if len(st.Keys) > 0 {
					// Opened before the list is made, so that a site
					// without a keyring passphrase fails with nothing done.
					if _, k, err = a.openKeyring(); err != nil {
						return fmt.Errorf("style %s makes list keys: %w", st.Name, err)
					}
				}
			}
			err = s.Lists.Update(func(tx *lists.Tx) error {
				if err := tx.CreateList(l); err != nil {
					return err
				}
				for _, o := range owners {
					if err := tx.AddMember(l.Address, &lists.Member{Address: o, Roles: []lists.Role{lists.RoleOwner, lists.RoleMember}}); err != nil {
						return fmt.Errorf("owner %s: %w", o, err)
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if st == nil {
				fmt.Fprintf(out, "created list %s\n", l.Address)
				return nil
			}
			fmt.Fprintf(out, "created list %s with style %s (%s)\n", l.Address, st.Name, st.Title)
			for _, kv := range st.Sets {
				fmt.Fprintf(out, "  set %s = %s\n", kv[0], kv[1])
			}
			return st.makeKeys(k, l.Address, out)
		},
	}
	create.Flags().StringVar(&desc, "description", "", "one-line description")
	create.Flags().StringVar(&styleName, "style", "", "give the list a style's settings and keys (see cloister list styles)")
	create.Flags().StringSliceVar(&owners, "owner", nil, "owner address (repeatable)")

	show := &cobra.Command{
		Use:   "show LIST",
		Short: "Show a list's settings",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			var l *lists.List
			var n int
			err = s.Lists.View(func(tx *lists.Tx) error {
				if l, err = tx.List(listAddress(s, args[0])); err != nil {
					return err
				}
				n, err = tx.CountMembers(l.Address)
				return err
			})
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "address\t%s\n", l.Address)
			fmt.Fprintf(w, "description\t%s\n", l.Description)
			fmt.Fprintf(w, "created\t%s\n", l.Created.Format(time.RFC3339))
			fmt.Fprintf(w, "members\t%d\n", n)
			for _, f := range l.Settings.Fields() {
				fmt.Fprintf(w, "%s\t%s\n", f.Name, strings.ReplaceAll(f.Value, "\n", `\n`))
			}
			return w.Flush()
		},
	}
	set := &cobra.Command{
		Use:   "set LIST SETTING VALUE",
		Short: "Change a list setting (see `list show` for the names)",
		Args:  cobra.ExactArgs(3),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			return s.Lists.Update(func(tx *lists.Tx) error {
				l, err := tx.List(listAddress(s, args[0]))
				if err != nil {
					return err
				}
				if err := l.Settings.Set(args[1], args[2]); err != nil {
					return err
				}
				if err := scenarioExists(s, args[1], l.Settings); err != nil {
					return err
				}
				return tx.PutList(l)
			})
		},
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the lists",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
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
					fmt.Fprintf(w, "%s\t%d members\t%s\n", l.Address, n, l.Description)
				}
				return nil
			})
			if err != nil {
				return err
			}
			return w.Flush()
		},
	}
	var yes bool
	del := &cobra.Command{
		Use:   "delete LIST",
		Short: "Delete a list, its members and its held posts' records",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if !yes {
				return errors.New("deleting a list cannot be undone: add --yes")
			}
			s, err := a.open()
			if err != nil {
				return err
			}
			addr := listAddress(s, args[0])
			if err := s.Lists.Update(func(tx *lists.Tx) error { return tx.DeleteList(addr) }); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted list %s\n", addr)
			return nil
		},
	}
	del.Flags().BoolVar(&yes, "yes", false, "really delete")
	c.AddCommand(create, show, set, ls, del, a.listStylesCmd(), a.listSettingsCmd())
	return c
}
