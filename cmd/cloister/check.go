package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"cloister/config"
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
			return nil
		},
	}
}
