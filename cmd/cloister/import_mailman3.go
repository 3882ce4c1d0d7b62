package main

import (
	"github.com/spf13/cobra"

	"cloister/migrate"
)

func (a *app) importMailman3Cmd() *cobra.Command {
	var members, owners, moderators []string
	var dryRun bool
	c := &cobra.Command{
		Use:   "mailman3 CONFIG.json",
		Short: "Import a Mailman 3 list: settings from its exported config, members from its rosters",
		Long: `Import a Mailman 3 list from its exported data. CONFIG.json is the
list's configuration as Mailman's REST API gives it:

  curl -u restadmin:PASS http://localhost:8001/3.1/lists/team@example.org/config > team.json

The rosters are given with --members, --owners and --moderators, each
either the REST API's JSON (/3.1/lists/LIST/roster/member, .../owner,
.../moderator, or /3.1/members/find?list_id=..., whose entries name their
role) or the text ` + "`mailman members [--role owner|moderator] LIST`" + ` prints.
The list gets the style its posting policy matches (discussion, moderated,
announce) and the settings Mailman had (subject prefix, language, size
limit, subscription policy, Reply-To, archive); digest members keep their
digests. What is not carried over is listed. Run it with --dry-run first.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var rosters []migrate.Roster
			for _, set := range []struct {
				files []string
				role  string
			}{{members, "member"}, {owners, "owner"}, {moderators, "moderator"}} {
				for _, f := range set.files {
					rosters = append(rosters, migrate.Roster{Path: f, Role: set.role})
				}
			}
			p, err := migrate.Mailman3(args[0], rosters)
			if err != nil {
				return err
			}
			return a.applyPlan(cmd, p, dryRun, cmd.OutOrStdout())
		},
	}
	c.Flags().StringSliceVar(&members, "members", nil, "a roster of members (JSON or mailman members text; repeatable)")
	c.Flags().StringSliceVar(&owners, "owners", nil, "a roster of owners (repeatable)")
	c.Flags().StringSliceVar(&moderators, "moderators", nil, "a roster of moderators (repeatable)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "say what would be imported, change nothing")
	return c
}
