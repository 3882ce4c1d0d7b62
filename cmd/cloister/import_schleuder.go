package main

import (
	"github.com/spf13/cobra"

	"cloister/migrate"
)

func (a *app) importSchleuderCmd() *cobra.Command {
	var db string
	var dryRun bool
	c := &cobra.Command{
		Use:   "schleuder LISTDIR",
		Short: "Import a Schleuder list: settings, subscriptions, their keys and the list key",
		Long: `Import the Schleuder list whose directory is LISTDIR (Schleuder's
lists_dir/DOMAIN/NAME, e.g. /var/lib/schleuder/lists/example.org/team):
its options and subscriptions from Schleuder's database (--db, read with
the sqlite3 command) and the list's secret key and the subscribers' keys
from the list's GnuPG keyring (read with gpg from a copy). The list becomes
an encrypted-openpgp list; admins become owners; each subscriber's key is
bound to their address as Schleuder's admins had it. What is not carried
over is listed. Run it with --dry-run first; Schleuder's files are only read.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := migrate.Schleuder(args[0], db)
			if err != nil {
				return err
			}
			return a.applyPlan(cmd, p, dryRun, cmd.OutOrStdout())
		},
	}
	c.Flags().StringVar(&db, "db", migrate.DefaultSchleuderDB, "Schleuder's SQLite database")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be imported, change nothing")
	return c
}
