package main

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"cloister/lists"
	"cloister/moderation"
	"cloister/rules"
)

func (a *app) scenarioCmd() *cobra.Command {
	c := &cobra.Command{Use: "scenario", Short: "Check, list and explain authorization scenarios (docs/scenarios.md)"}
	check := &cobra.Command{
		Use:   "check FILE...",
		Short: "Parse scenario files and print every error with its line and column",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ss := rules.NewScenarioSet("")
			failed := 0
			for _, path := range args {
				if err := ss.Check(path); err != nil {
					failed++
					fmt.Fprintln(cmd.OutOrStdout(), err)
					continue
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: OK\n", path)
			}
			if failed > 0 {
				return fmt.Errorf("%d of %d scenario files have errors", failed, len(args))
			}
			return nil
		},
	}
	ls := &cobra.Command{
		Use:   "ls [OPERATION]",
		Short: "List the built-in and site scenarios, for one operation or all",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			dir := ""
			if s, err := a.open(); err == nil {
				dir = s.Config.ScenarioDir
			}
			ss := rules.NewScenarioSet(dir)
			ops := rules.ScenarioOperations()
			if len(args) == 1 {
				ops = args
			}
			for _, op := range ops {
				for _, n := range ss.Names(op) {
					title := ""
					if sc, err := ss.Get(n); err == nil {
						title = sc.Title
					}
					fmt.Fprintf(cmd.OutOrStdout(), "%-28s %s\n", n, title)
				}
			}
			return nil
		},
	}
	var (
		sender, auth, signer string
		headers              []string
		encrypted, signed    bool
		size                 int64
	)
	explain := &cobra.Command{
		Use:   "explain LIST OPERATION",
		Short: "Evaluate a list's scenario for an operation and print each rule tried and the one that decided",
		Long: `Evaluate the scenario that LIST names for OPERATION (send, subscribe,
unsubscribe, review, get, key, admin, moderate) for a request described by the flags, and print
each rule tried, why it did or did not decide, and the decision. For example:

  cloister scenario explain team send --sender bob@example.org --auth pgp
  cloister scenario explain team send --sender eve@example.net \
      --header 'Content-Type: multipart/alternative; boundary=x'

Only the scenario is evaluated; the posting chain (docs/owners.md) runs
before it on real posts.`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			op := args[1]
			if !contains(rules.ScenarioOperations(), op) {
				return fmt.Errorf("operation %q: want one of %s", op, strings.Join(rules.ScenarioOperations(), ", "))
			}
			if !contains(rules.ScenarioMethods(), auth) {
				return fmt.Errorf("--auth %q: want one of %s", auth, strings.Join(rules.ScenarioMethods(), ", "))
			}
			hdr := map[string][]string{}
			for _, h := range headers {
				name, value, ok := strings.Cut(h, ":")
				if !ok || strings.TrimSpace(name) == "" || strings.ContainsAny(strings.TrimSpace(name), " \t") {
					return fmt.Errorf("--header %q: want 'Name: value'", h)
				}
				key := strings.ToLower(strings.TrimSpace(name))
				hdr[key] = append(hdr[key], strings.TrimSpace(value))
			}
			address := listAddress(s, args[0])
			var out string
			err = s.Lists.View(func(tx *lists.Tx) error {
				l, err := tx.List(address)
				if err != nil {
					return err
				}
				name, err := l.Settings.Value(op)
				if err != nil {
					return err
				}
				sc, err := moderation.Scenarios(s).Get(name)
				if err != nil {
					return err
				}
				env := rules.Env{
					Sender:    strings.ToLower(strings.TrimSpace(sender)),
					ListName:  l.Address,
					Signer:    strings.ToLower(strings.TrimSpace(signer)),
					Method:    auth,
					Encrypted: encrypted,
					Signed:    signed,
					Size:      size,
					Header:    func(n string) []string { return hdr[strings.ToLower(n)] },
					Roster:    rules.ListsRoster{Tx: tx, Listmasters: s.Config.Listmasters, Domain: s.Config.Domain},
				}
				d, trace := sc.Evaluate(env)
				out = rules.FormatScenarioTrace(d, trace)
				return nil
			})
			if errors.Is(err, lists.ErrNoList) {
				return fmt.Errorf("no list %s", address)
			}
			if err != nil {
				return err
			}
			fmt.Fprint(cmd.OutOrStdout(), out)
			return nil
		},
	}
	explain.Flags().StringVar(&sender, "sender", "", "the requester's address ([sender])")
	explain.Flags().StringVar(&auth, "auth", "smtp", "authentication method: smtp, md5, pgp or smime")
	explain.Flags().StringVar(&signer, "signer", "", "the signer's address ([signer]); defaults to --sender with --auth pgp or smime")
	explain.Flags().StringArrayVar(&headers, "header", nil, "a header field 'Name: value' ([header->Name]); repeatable")
	explain.Flags().BoolVar(&encrypted, "encrypted", false, "the request arrived encrypted (is_encrypted())")
	explain.Flags().BoolVar(&signed, "signed", false, "the request carried a good signature (is_signed()); implied by --auth pgp or smime")
	explain.Flags().Int64Var(&size, "size", 0, "message size in bytes ([msg->size])")
	explain.MarkFlagRequired("sender")
	explain.PreRun = func(cmd *cobra.Command, args []string) {
		if auth == rules.MethodPGP || auth == rules.MethodSMIME {
			signed = true
			if signer == "" {
				signer = sender
			}
		}
	}
	c.AddCommand(check, ls, explain)
	return c
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
