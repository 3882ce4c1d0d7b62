package main

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"cloister/lists"
	"cloister/migrate"
	"cloister/styles"
)

func (a *app) importCmd() *cobra.Command {
	c := &cobra.Command{Use: "import", Short: "Import lists from other list servers (Schleuder, Mailman 3)"}
	c.AddCommand(a.importSchleuderCmd(), a.importMailman3Cmd())
	return c
}

// applyPlan makes the list of an import plan: the style's settings, then
// the plan's, the list key, the members and their keys; with dryRun it
// only says what it would do. Nothing is made when the list exists or a
// setting is refused.
func (a *app) applyPlan(p *migrate.Plan, dryRun bool, out io.Writer) error {
	s, err := a.open()
	if err != nil {
		return err
	}
	l, err := lists.NewList(p.Address, time.Now())
	if err != nil {
		return err
	}
	l.Description = p.Description
	st, err := styles.Load(s, p.Style)
	if err != nil {
		return err
	}
	check := func(setting string, ls lists.Settings) error { return scenarioExists(s, setting, ls) }
	if err := st.Apply(l, check); err != nil {
		return err
	}
	for _, kv := range p.Settings {
		if err := l.Settings.Set(kv[0], kv[1]); err != nil {
			return fmt.Errorf("import %s: setting %s %q: %w", p.Address, kv[0], kv[1], err)
		}
		if err := scenarioExists(s, kv[0], l.Settings); err != nil {
			return fmt.Errorf("import %s: %w", p.Address, err)
		}
	}
	verb := "imported"
	if dryRun {
		verb = "would import"
	}
	fmt.Fprintf(out, "%s list %s with style %s\n", verb, p.Address, p.Style)
	for _, kv := range p.Settings {
		fmt.Fprintf(out, "  set %s = %q\n", kv[0], kv[1])
	}
	for _, m := range p.Members {
		fmt.Fprintf(out, "  member %s roles=%v delivery=%s key=%v\n", m.Address, planRoles(m), m.Delivery, len(m.Key) > 0)
	}
	for _, n := range p.Notes {
		fmt.Fprintf(out, "  note: %s\n", n)
	}
	if dryRun {
		return nil
	}
	_, k, err := a.openKeyring()
	if err != nil && (len(p.ListSecretKey) > 0 || hasKeys(p)) {
		return fmt.Errorf("import %s needs the keyring: %w", p.Address, err)
	}
	err = s.Lists.Update(func(tx *lists.Tx) error {
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for _, m := range p.Members {
			if err := tx.AddMember(l.Address, &lists.Member{Address: m.Address, Name: m.Name, Roles: planRoles(m), Delivery: lists.Delivery(m.Delivery)}); err != nil {
				return fmt.Errorf("member %s: %w", m.Address, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("import %s: %w", p.Address, err)
	}
	if len(p.ListSecretKey) > 0 {
		fpr, err := k.ImportOpenPGPSecret(l.Address, p.ListSecretKey, nil)
		if err != nil {
			return fmt.Errorf("import %s: list key (the list exists now; import the key with cloister key import): %w", p.Address, err)
		}
		fmt.Fprintf(out, "  list key %s\n", fpr)
	}
	for _, m := range p.Members {
		if len(m.Key) == 0 {
			continue
		}
		fpr, err := k.AddOpenPGP(m.Address, m.Key, true)
		if err != nil {
			fmt.Fprintf(out, "  key of %s not imported: %v (add it with cloister key add)\n", m.Address, err)
			continue
		}
		fmt.Fprintf(out, "  key %s bound to %s\n", fpr, m.Address)
	}
	return nil
}

func hasKeys(p *migrate.Plan) bool {
	for _, m := range p.Members {
		if len(m.Key) > 0 {
			return true
		}
	}
	return false
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
