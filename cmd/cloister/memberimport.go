package main

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/spf13/cobra"

	"cloister/service"
)

// maxBadLines bounds how many bad lines an import reports one by one.
const maxBadLines = 100

func (a *app) memberImportCmd() *cobra.Command {
	var dryRun, skipBad bool
	var keys string
	c := &cobra.Command{
		Use:   "import LIST FILE.csv",
		Short: "Import members from CSV: address[,name[,roles[,delivery]]] per line ('-' reads stdin); every bad line is reported with its number",
		Long: "Import members from CSV: address[,name[,roles[,delivery]]] per line ('-' reads stdin), as member export --csv writes.\n" +
			"Every line is checked first and each bad one reported with its number; with any bad line nothing is imported\n" +
			"unless --skip-bad. --dry-run checks and reports without changing anything.",
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			var r io.Reader = os.Stdin
			if args[1] != "-" {
				f, err := os.Open(args[1])
				if err != nil {
					return err
				}
				defer f.Close()
				r = f
			}
			data, err := io.ReadAll(io.LimitReader(r, service.MaxImportSize+1))
			if err != nil {
				return err
			}
			list := a.listName(args[0])
			res, err := api.MemberImport(cmd.Context(), actor, service.MemberImportRequest{
				List: list, Format: service.FormatCSV, Data: data, DryRun: dryRun, SkipBad: skipBad})
			out := cmd.OutOrStdout()
			for i, b := range res.Bad {
				if i == maxBadLines {
					break
				}
				if b.Line == 0 {
					fmt.Fprintln(out, b.Message)
					continue
				}
				fmt.Fprintf(out, "line %d: %s\n", b.Line, b.Message)
			}
			if res.BadCount > len(res.Bad) {
				fmt.Fprintf(out, "... and %d more bad lines\n", res.BadCount-len(res.Bad))
			}
			if err != nil {
				if service.Code(err) == service.CodeInvalid && res.BadCount > 0 && !skipBad {
					return fmt.Errorf("%d bad lines: nothing imported (fix them, or --skip-bad to import the %d good ones)", res.BadCount, countGood(res))
				}
				return cliError(err)
			}
			if dryRun {
				fmt.Fprintf(out, "dry run: would import %d members into %s (%d already there, %d bad lines); nothing changed\n", res.Added, list, res.Existing, res.BadCount)
				return nil
			}
			fmt.Fprintf(out, "imported %d members into %s (%d already there, %d bad lines skipped)\n", res.Added, list, res.Existing, res.BadCount)
			if keys != "" { // the members' keys, as key import FILE|DIR takes them (keyimport.go)
				return a.importSubscriberKeys(cmd, keys)
			}
			return nil
		},
	}
	c.Flags().StringVar(&keys, "keys", "", "also add the members' OpenPGP keys from this exported keyring or folder of key files (as key import FILE|DIR)")
	c.Flags().BoolVar(&dryRun, "dry-run", false, "check the file and say what would be imported, changing nothing")
	c.Flags().BoolVar(&skipBad, "skip-bad", false, "import the good lines even when some are bad")
	return c
}

// countGood is how many members a refused import would have added.
func countGood(res service.ImportResult) int { return res.Good }

func (a *app) memberExportCmd() *cobra.Command {
	var asCSV, asJSON bool
	c := &cobra.Command{
		Use:   "export LIST --csv|--json",
		Short: "Print a list's members as CSV (address,name,roles,delivery,subscribed; member import reads it back) or JSON",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if asCSV == asJSON {
				return errors.New("give --csv or --json")
			}
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			format := service.FormatCSV
			if asJSON {
				format = service.FormatJSON
			}
			ex, err := api.MemberExport(cmd.Context(), actor, service.MemberExportRequest{List: args[0], Format: format})
			if err != nil {
				return cliError(err)
			}
			_, err = cmd.OutOrStdout().Write(ex.Data)
			return err
		},
	}
	c.Flags().BoolVar(&asCSV, "csv", false, "CSV with a header line")
	c.Flags().BoolVar(&asJSON, "json", false, "a JSON array of members")
	return c
}
