package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

func (a *app) docsCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "docs",
		Short: "Generate documentation from the command tree",
	}
	c.AddCommand(&cobra.Command{
		Use:   "man DIR",
		Short: "Write a man page (section 1) for every command into DIR",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := os.MkdirAll(args[0], 0o755); err != nil {
				return fmt.Errorf("create %s: %w", args[0], err)
			}
			root := cmd.Root()
			// No generation date: the pages are reproducible.
			root.DisableAutoGenTag = true
			header := &doc.GenManHeader{Title: "CLOISTER", Section: "1", Source: "Cloister", Manual: "Cloister manual"}
			if err := doc.GenManTree(root, header, args[0]); err != nil {
				return fmt.Errorf("man pages: %w", err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "man pages written to %s\n", args[0])
			return nil
		},
	})
	c.AddCommand(&cobra.Command{
		Use:   "settings",
		Short: "Print the list settings reference (docs/settings.md) in Markdown",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), settingsReference())
			return err
		},
	})
	return c
}
