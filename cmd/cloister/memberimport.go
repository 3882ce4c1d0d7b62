package main

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cloister/lists"
)

// maxBadLines bounds how many bad lines an import reports one by one.
const maxBadLines = 100

// importLine is one member line of an import file.
type importLine struct {
	line int
	m    *lists.Member
}

// errRollBack undoes the trial transaction of an import.
var errRollBack = errors.New("roll back")

// parseMembers reads an import file: address[,name[,roles[,delivery[,subscribed]]]]
// per line, # comments, a header line starting with "address" skipped. It
// returns the good lines and one problem per bad line, each with its number.
func parseMembers(r io.Reader) ([]importLine, []string) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.Comment = '#'
	cr.TrimLeadingSpace = true
	var good []importLine
	var bad []string
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				bad = append(bad, err.Error())
				break
			}
			bad = append(bad, fmt.Sprintf("line %d: %v", pe.StartLine, pe.Err))
			if len(bad) > maxBadLines {
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if len(rec) == 0 || strings.TrimSpace(rec[0]) == "" || strings.EqualFold(strings.TrimSpace(rec[0]), "address") {
			continue
		}
		m := &lists.Member{Address: strings.TrimSpace(rec[0]), Delivery: lists.DeliveryEnabled}
		if len(rec) > 1 {
			m.Name = strings.TrimSpace(rec[1])
		}
		if len(rec) > 2 {
			if m.Roles, err = parseRoles(rec[2]); err != nil {
				bad = append(bad, fmt.Sprintf("line %d: %s: %v", line, m.Address, err))
				continue
			}
		}
		if len(rec) > 3 && strings.TrimSpace(rec[3]) != "" {
			switch d := lists.Delivery(strings.TrimSpace(rec[3])); d {
			case lists.DeliveryEnabled, lists.DeliveryDisabled, lists.DeliveryDigest:
				m.Delivery = d
			default:
				bad = append(bad, fmt.Sprintf("line %d: %s: delivery %q (enabled, disabled or digest)", line, m.Address, rec[3]))
				continue
			}
		}
		if len(rec) > 4 && strings.TrimSpace(rec[4]) != "" {
			if m.Subscribed, err = time.Parse(time.RFC3339, strings.TrimSpace(rec[4])); err != nil {
				bad = append(bad, fmt.Sprintf("line %d: %s: subscribed %q is not an RFC 3339 time", line, m.Address, rec[4]))
				continue
			}
		}
		if len(rec) > 5 {
			bad = append(bad, fmt.Sprintf("line %d: %d fields, at most address,name,roles,delivery,subscribed", line, len(rec)))
			continue
		}
		good = append(good, importLine{line: line, m: m})
	}
	return good, bad
}

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
			s, err := a.open()
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
			list := listAddress(s, args[0])
			good, bad := parseMembers(r)
			// A trial run in a transaction that is always rolled back checks
			// every line with the store's own rules.
			var toAdd []importLine
			existing := 0
			err = s.Lists.Update(func(tx *lists.Tx) error {
				if _, err := tx.List(list); err != nil {
					return err
				}
				for _, il := range good {
					err := tx.AddMember(list, il.m)
					switch {
					case errors.Is(err, lists.ErrMemberExists):
						existing++
					case err != nil:
						bad = append(bad, fmt.Sprintf("line %d: %v", il.line, err))
					default:
						toAdd = append(toAdd, il)
					}
				}
				return errRollBack
			})
			if !errors.Is(err, errRollBack) {
				return err
			}
			out := cmd.OutOrStdout()
			for i, b := range bad {
				if i == maxBadLines {
					fmt.Fprintf(out, "... and %d more bad lines\n", len(bad)-i)
					break
				}
				fmt.Fprintln(out, b)
			}
			if dryRun {
				fmt.Fprintf(out, "dry run: would import %d members into %s (%d already there, %d bad lines); nothing changed\n", len(toAdd), list, existing, len(bad))
				return nil
			}
			if len(bad) > 0 && !skipBad {
				return fmt.Errorf("%d bad lines: nothing imported (fix them, or --skip-bad to import the %d good ones)", len(bad), len(toAdd))
			}
			added := 0
			for start := 0; start < len(toAdd); start += 1000 {
				batch := toAdd[start:min(start+1000, len(toAdd))]
				err := s.Lists.Update(func(tx *lists.Tx) error {
					for _, il := range batch {
						err := tx.AddMember(list, il.m)
						if errors.Is(err, lists.ErrMemberExists) {
							existing++
							continue
						}
						if err != nil {
							return fmt.Errorf("line %d: %w", il.line, err)
						}
						added++
					}
					return nil
				})
				if err != nil {
					return fmt.Errorf("after %d imported: %w", added, err)
				}
			}
			fmt.Fprintf(out, "imported %d members into %s (%d already there, %d bad lines skipped)\n", added, list, existing, len(bad))
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
			s, err := a.open()
			if err != nil {
				return err
			}
			list := listAddress(s, args[0])
			var members []*lists.Member
			err = s.Lists.View(func(tx *lists.Tx) error {
				if _, err := tx.List(list); err != nil {
					return err
				}
				return tx.ForEachMember(list, func(m *lists.Member) error {
					members = append(members, m)
					return nil
				})
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if members == nil {
					members = []*lists.Member{}
				}
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(members)
			}
			w := csv.NewWriter(out)
			w.Write([]string{"address", "name", "roles", "delivery", "subscribed"})
			for _, m := range members {
				rs := make([]string, len(m.Roles))
				for i, r := range m.Roles {
					rs[i] = string(r)
				}
				sub := ""
				if !m.Subscribed.IsZero() {
					sub = m.Subscribed.UTC().Format(time.RFC3339)
				}
				w.Write([]string{m.Address, m.Name, strings.Join(rs, "+"), string(m.Delivery), sub})
			}
			w.Flush()
			return w.Error()
		},
	}
	c.Flags().BoolVar(&asCSV, "csv", false, "CSV with a header line")
	c.Flags().BoolVar(&asJSON, "json", false, "a JSON array of members")
	return c
}
