package main

import (
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"cloister/lists"
	"cloister/migrate"
	"cloister/service"
)

func (a *app) importCmd() *cobra.Command {
	c := &cobra.Command{Use: "import", Short: "Import lists from other list servers (Schleuder, Mailman 3)"}
	c.AddCommand(a.importSchleuderCmd(), a.importMailman3Cmd())
	return c
}

// applyPlan makes the list of an import plan through the service
// (ApplyImport, a site admin's operation; through the API too): the
// style's settings, then the plan's, the list key, the members and their
// keys; with dryRun it only checks and says what it would do. Nothing is
// made when the list exists or a setting is refused.
func (a *app) applyPlan(cmd *cobra.Command, p *migrate.Plan, dryRun bool, out io.Writer) error {
	svc, actor, err := a.services(cmd)
	if err != nil {
		return err
	}
	res, err := svc.ApplyImport(cmd.Context(), actor, service.ImportPlanRequest{Plan: *p, DryRun: dryRun})
	if err != nil && res.List == "" {
		return cliError(err)
	}
	verb := "imported"
	if dryRun {
		verb = "would import"
	}
	fmt.Fprintf(out, "%s list %s with style %s\n", verb, res.List, p.Style)
	for _, kv := range p.Settings {
		fmt.Fprintf(out, "  set %s = %q\n", kv[0], kv[1])
	}
	for _, m := range p.Members {
		fmt.Fprintf(out, "  member %s roles=%v delivery=%s key=%v\n", m.Address, planRoles(m), m.Delivery, len(m.Key) > 0)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
	if err != nil {
		return cliError(err)
	}
	if res.ListKey != "" {
		fmt.Fprintf(out, "  list key %s\n", res.ListKey)
	}
	for _, k := range res.Keys {
		if k.Error != "" {
			fmt.Fprintf(out, "  key of %s not imported: %s (add it with cloister key add)\n", k.Address, k.Error)
			continue
		}
		fmt.Fprintf(out, "  key %s bound to %s\n", k.Fingerprint, k.Address)
	}
	return nil
}

// planRoles returns a plan member's Cloister roles.
func planRoles(m migrate.Member) []lists.Role {
	var r []lists.Role
	if m.Member {
		r = append(r, lists.RoleMember)
	}
	if m.Moderator {
		r = append(r, lists.RoleModerator)
	}
	if m.Owner {
		r = append(r, lists.RoleOwner)
	}
	return r
}
