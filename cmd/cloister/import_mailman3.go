package main

import (
	"errors"

	"github.com/spf13/cobra"
)

func (a *app) importMailman3Cmd() *cobra.Command {
	return &cobra.Command{
		Use:   "mailman3 FILE",
		Short: "Import a Mailman 3 list from its exported data",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return errors.New("not yet")
		},
	}
}
