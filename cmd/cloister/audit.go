package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/service"
)

// parseSince reads --since: an RFC 3339 time, a date (YYYY-MM-DD, UTC), or
// a duration back from now (24h, 90m).
func parseSince(v string, now time.Time) (time.Time, error) {
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t, nil
	}
	if t, err := time.Parse(time.DateOnly, v); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(v); err == nil && d > 0 {
		return now.Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("--since %q: want an RFC 3339 time, a date (2006-01-02) or a duration (24h)", v)
}

func (a *app) auditCmd() *cobra.Command {
	var list, since string
	var asJSON bool
	var limit int
	c := &cobra.Command{
		Use:   "audit",
		Short: "Show the audit log: every change made through the CLI, mail, the API or the web, with who made it and how they were authenticated",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			req := service.AuditRequest{List: list, Limit: limit}
			if since != "" {
				t, err := parseSince(since, time.Now())
				if err != nil {
					return err
				}
				req.Since = t
			}
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			entries, err := api.Audit(cmd.Context(), actor, req)
			if err != nil {
				return cliError(err)
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if entries == nil {
					entries = []service.AuditEntry{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(entries)
			}
			w := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "TIME\tACTOR\tMETHOD\tVIA\tOPERATION\tLIST\tTARGET\tRESULT\n")
			for _, e := range entries {
				who := e.Actor
				if who == "" && e.Token != "" {
					who = "token " + e.Token
				}
				if who == "" {
					who = "-"
				}
				if len(e.Scopes) > 0 {
					who += " [" + strings.Join(e.Scopes, " ") + "]"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Time.UTC().Format(time.RFC3339), who, e.Method, e.Via,
					e.Op, orDash(e.List), orDash(oneLineText(e.Target)), e.Result)
			}
			return w.Flush()
		},
	}
	c.Flags().StringVar(&list, "list", "", "only the changes of this list")
	c.Flags().StringVar(&since, "since", "", "only the changes since this time (RFC 3339), date (2006-01-02) or duration back from now (24h)")
	c.Flags().BoolVar(&asJSON, "json", false, "a JSON array of entries")
	c.Flags().IntVar(&limit, "limit", 0, "only the last N entries")
	return c
}

// orDash shows an empty field as -.
func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
