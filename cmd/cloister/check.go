package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"time"

	"github.com/spf13/cobra"

	"cloister/config"
	"cloister/keyring"
	"cloister/lists"
	"cloister/rules"
	"cloister/runners"
)

func (a *app) checkCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Check the configuration and report every problem at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(a.configPath)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "config OK: %s\n", cfg.Path)
			if _, err := os.Stat(cfg.ListsDB()); err == nil {
				if err := a.checkScenarios(cmd.OutOrStdout()); err != nil {
					return err
				}
			}
			if _, err := os.Stat(cfg.KeyringDB()); err != nil {
				return nil // no keyring yet: no key can expire
			}
			return a.checkExpiring(cmd.OutOrStdout(), time.Now())
		},
	}
}

// checkExpiring prints the list keys and certificates, and the keys and
// certificates of people on a roster, that stop being usable within their
// list's key_warn_days or cert_warn_days (as Sympa's chk_cert_expiration
// reports them).
func (a *app) checkExpiring(w io.Writer, now time.Time) error {
	s, err := a.open()
	if err != nil {
		return err
	}
	dues, err := runners.DueExpiries(s, now)
	if err != nil {
		return fmt.Errorf("expiring keys: %w", err)
	}
	for _, d := range dues {
		what, setting := "OpenPGP key", "key_warn_days"
		days := d.List.Settings.KeyWarnDays
		if d.Key.Kind == keyring.KindX509 {
			what, setting, days = "certificate", "cert_warn_days", d.List.Settings.CertWarnDays
		}
		whose := "the list's own"
		if !d.Key.List {
			whose = d.Key.Address + "'s"
		}
		left := int(math.Ceil(d.Key.Ends.Sub(now).Hours() / 24))
		fmt.Fprintf(w, "expiring: %s: %s %s %s ends %s (in %d days; %s %d)\n", d.List.Address, whose, what,
			d.Key.Fingerprint, d.Key.Ends.UTC().Format(time.DateOnly), left, setting, days)
	}
	if len(dues) == 0 {
		fmt.Fprintln(w, "keys OK: none expires within its list's warning days")
	}
	return nil
}

// checkScenarios reports each list setting that names a scenario the site
// does not have (a file removed from scenario_dir after `list set`): the
// list would refuse every request of that operation.
func (a *app) checkScenarios(w io.Writer) error {
	s, err := a.open()
	if err != nil {
		return err
	}
	var ls []*lists.List
	if err := s.Lists.View(func(tx *lists.Tx) error {
		ls, err = tx.Lists()
		return err
	}); err != nil {
		return fmt.Errorf("read lists: %w", err)
	}
	problems := 0
	for _, l := range ls {
		if l.Settings.BatchSize > 1 && l.Settings.HiddenRecipients {
			fmt.Fprintf(w, "warning: %s: batch_size %d with hidden_recipients: encrypted batches hide key IDs, which rnp 0.16, sqop and PGPy cannot decrypt (docs/subscribers.md)\n", l.Address, l.Settings.BatchSize)
		}
		for _, op := range rules.ScenarioOperations() {
			if err := scenarioExists(s, op, l.Settings); err != nil {
				fmt.Fprintf(w, "scenario missing: %s: %v\n", l.Address, err)
				problems++
			}
		}
	}
	if problems > 0 {
		return fmt.Errorf("%d list settings name scenarios the site does not have", problems)
	}
	fmt.Fprintf(w, "scenarios OK: every setting of %d lists names an existing scenario\n", len(ls))
	return nil
}
