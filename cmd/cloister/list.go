package main

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/moderation"
	"cloister/rules"
	"cloister/service"
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
	if _, err := moderation.Scenarios(s).Get(name); err != nil {
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
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			info, err := api.ListCreate(cmd.Context(), actor, service.ListCreateRequest{
				Address: args[0], Description: desc, Style: styleName, Owners: owners})
			if err != nil {
				return cliError(err)
			}
			out := cmd.OutOrStdout()
			if styleName == "" {
				fmt.Fprintf(out, "created list %s\n", info.Address)
				return nil
			}
			all, err := api.StyleList(cmd.Context(), actor)
			var st service.StyleInfo
			for _, x := range all {
				if x.Name == info.Style {
					st = x
				}
			}
			if st.Name == "" {
				return cliError(err)
			}
			fmt.Fprintf(out, "created list %s with style %s (%s)\n", info.Address, st.Name, st.Title)
			for _, kv := range st.Settings {
				fmt.Fprintf(out, "  set %s = %s\n", kv[0], kv[1])
			}
			for _, k := range info.MadeKeys {
				switch k.Kind {
				case "openpgp":
					fmt.Fprintf(out, "  made OpenPGP list key %s (Ed25519 + Curve25519; cloister key export %s gives it to subscribers)\n", k.Fingerprint, info.Address)
				case "smime":
					fmt.Fprintf(out, "  made self-signed S/MIME list certificate %s (cloister key csr %s makes a request for a CA)\n", k.Fingerprint, info.Address)
				}
			}
			return nil
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
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			l, err := api.ListShow(cmd.Context(), actor, service.ListRef{List: args[0]})
			if err != nil {
				return cliError(err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "address\t%s\n", l.Address)
			fmt.Fprintf(w, "description\t%s\n", l.Description)
			fmt.Fprintf(w, "created\t%s\n", l.Created.Format(time.RFC3339))
			fmt.Fprintf(w, "members\t%d\n", l.Members)
			for _, f := range l.Settings {
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
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			_, err = api.ListSet(cmd.Context(), actor, service.ListSetRequest{List: args[0], Settings: map[string]string{args[1]: args[2]}})
			return cliError(err)
		},
	}
	ls := &cobra.Command{
		Use:   "ls",
		Short: "List the lists",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			all, err := api.ListList(cmd.Context(), actor, service.ListListRequest{})
			if err != nil {
				return cliError(err)
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			for _, l := range all {
				fmt.Fprintf(w, "%s\t%d members\t%s\n", l.Address, l.Members, l.Description)
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
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			addr := a.listName(args[0])
			if err := api.ListDelete(cmd.Context(), actor, service.ListRef{List: addr}); err != nil {
				return cliError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "deleted list %s\n", addr)
			return nil
		},
	}
	del.Flags().BoolVar(&yes, "yes", false, "really delete")
	c.AddCommand(create, show, set, ls, del, a.listStylesCmd(), a.listSettingsCmd())
	return c
}
