package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/api/token"
	"cloister/internal/config"
	"cloister/lists"
	"cloister/service"
)

// tokenCmd manages the REST API's bearer tokens.
func (a *app) tokenCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "token",
		Short: "Create, list and revoke the REST API's bearer tokens",
		Long: `Tokens authenticate requests to "cloister api" (Authorization: Bearer SECRET).
Each grants scopes: site:admin (everything), list:LIST:owner (a list's
settings, members, keys, held posts), list:LIST:moderator (held posts and
reading), list:LIST:read (reading only). Only the SHA-256 of a secret is
stored, in cloister.db (so "cloister backup" keeps it): the secret is printed
once, by "token create".`,
	}
	c.AddCommand(a.tokenCreateCmd(), a.tokenListCmd(), a.tokenRevokeCmd())
	return c
}

// tokenStore opens the token store of the configured site.
func (a *app) tokenStore() (*token.Store, error) {
	cfg, err := config.Load(a.configPath)
	if err != nil {
		return nil, err
	}
	if _, err := a.open(); err != nil { // creates cloister.db on a new site
		return nil, err
	}
	return token.Open(cfg.ListsDB()), nil
}

func (a *app) tokenCreateCmd() *cobra.Command {
	var scopes []string
	var expires, name string
	c := &cobra.Command{
		Use:   "create --scope SCOPE [--scope SCOPE] [--expires 90d] [--name NAME]",
		Short: "Make a token and print its secret (shown only this once)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(scopes) == 0 {
				return errors.New("give at least one --scope (site:admin, list:LIST:owner, list:LIST:moderator, list:LIST:read)")
			}
			var canonical []string
			var parsed []service.Scope
			for _, s := range scopes {
				sc, err := service.ParseScope(s)
				if err != nil {
					return err
				}
				canonical = append(canonical, sc.String())
				parsed = append(parsed, sc)
			}
			life, err := token.ParseLifetime(expires)
			if err != nil {
				return err
			}
			st, err := a.tokenStore()
			if err != nil {
				return err
			}
			if err := a.scopeListsExist(parsed); err != nil {
				return err
			}
			t, secret, err := st.Create(name, canonical, life)
			if err != nil {
				return err
			}
			exp := "never"
			if !t.Expires.IsZero() {
				exp = t.Expires.Format(time.RFC3339)
			}
			fmt.Fprintf(cmd.ErrOrStderr(), "token %s (%s) scopes %s, expires %s; the secret is shown only once:\n",
				t.ID, t.Name, strings.Join(t.Scopes, " "), exp)
			fmt.Fprintln(cmd.OutOrStdout(), secret)
			return nil
		},
	}
	c.Flags().StringArrayVar(&scopes, "scope", nil, "a scope the token grants (repeatable)")
	c.Flags().StringVar(&expires, "expires", "90d", "lifetime: 90d, 12h or never")
	c.Flags().StringVar(&name, "name", "", "a label for the token")
	return c
}

func (a *app) tokenListCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List the tokens (never their secrets)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.tokenStore()
			if err != nil {
				return err
			}
			all, err := st.List()
			if err != nil {
				return err
			}
			for i := range all {
				all[i].Hash = ""
			}
			if asJSON {
				enc := json.NewEncoder(cmd.OutOrStdout())
				enc.SetIndent("", "  ")
				return enc.Encode(all)
			}
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tNAME\tSCOPES\tCREATED\tEXPIRES\tLAST USE")
			now := time.Now()
			for _, t := range all {
				exp, used := "never", "never"
				if !t.Expires.IsZero() {
					exp = t.Expires.Format(time.RFC3339)
					if t.Expired(now) {
						exp += " (expired)"
					}
				}
				if !t.LastUsed.IsZero() {
					used = t.LastUsed.Format(time.RFC3339)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", t.ID, t.Name, strings.Join(t.Scopes, " "),
					t.Created.Format(time.RFC3339), exp, used)
			}
			return tw.Flush()
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return c
}

func (a *app) tokenRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke ID|NAME",
		Short: "Revoke a token at once",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			st, err := a.tokenStore()
			if err != nil {
				return err
			}
			t, err := st.Revoke(args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "revoked token %s (%s)\n", t.ID, t.Name)
			return nil
		},
	}
}

// scopeListsExist refuses a list scope naming a list that does not exist:
// a list scope covers only a list made before the token, so such a token
// could never act on the list once it is made.
func (a *app) scopeListsExist(scopes []service.Scope) error {
	st, err := a.open()
	if err != nil {
		return err
	}
	return st.Lists.View(func(tx *lists.Tx) error {
		for _, sc := range scopes {
			if sc.List == "" {
				continue
			}
			if _, err := tx.List(sc.List); errors.Is(err, lists.ErrNoList) {
				return fmt.Errorf("scope %s: no list %s (a list scope covers only a list made before the token: create the list first)", sc, sc.List)
			} else if err != nil {
				return fmt.Errorf("scope %s: %w", sc, err)
			}
		}
		return nil
	})
}
