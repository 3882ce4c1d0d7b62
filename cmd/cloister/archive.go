package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"text/tabwriter"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
	"github.com/spf13/cobra"

	"cloister/archive"
	"cloister/internal/site"
	"cloister/keyring"
	"cloister/lists"
	"cloister/service"
)

func (a *app) archiveCmd() *cobra.Command {
	c := &cobra.Command{Use: "archive", Short: "List, show, export and expire list archives; make archive keys"}
	var passFile string
	c.PersistentFlags().StringVar(&passFile, "passphrase-file", "",
		"file holding the keyring passphrase that unlocks the archive key (default: the site's keyring_passphrase_file)")

	ls := &cobra.Command{
		Use:   "ls LIST",
		Short: "Index of a list's archive: number, date, sender, subject (encrypted archives need the passphrase)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, list, err := a.archiveSite(args[0])
			if err != nil {
				return err
			}
			key, keyErr := archiveSecret(s, list, passFile)
			st := archive.For(s, list)
			es, err := st.Entries()
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintf(w, "N\tRECEIVED\tFROM\tSUBJECT\n")
			locked := 0
			for _, e := range es {
				from, subject := "", ""
				if msg, err := st.Read(e, key); err == nil {
					_, from, subject = archive.HeaderSummary(msg)
				} else if errors.Is(err, archive.ErrEncrypted) {
					from, subject = "(encrypted)", "(encrypted)"
					locked++
				} else {
					subject = "(" + err.Error() + ")"
				}
				fmt.Fprintf(w, "%d\t%s\t%s\t%s\n", e.N, e.Time.Format(time.RFC3339), from, subject)
			}
			if err := w.Flush(); err != nil {
				return err
			}
			if locked > 0 && keyErr != nil {
				fmt.Fprintf(cmd.ErrOrStderr(), "%d encrypted messages not shown: %v\n", locked, keyErr)
			}
			return nil
		},
	}

	show := &cobra.Command{
		Use:   "show LIST N",
		Short: "Print archived message N, decrypted with the archive key when it is stored encrypted",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, list, err := a.archiveSite(args[0])
			if err != nil {
				return err
			}
			n, err := strconv.Atoi(args[1])
			if err != nil {
				return fmt.Errorf("the message number N must be a number: %q", args[1])
			}
			st := archive.For(s, list)
			e, err := st.Entry(n)
			if err != nil {
				return err
			}
			var key *openpgp.Entity
			if e.Encrypted {
				if key, err = archiveSecret(s, list, passFile); err != nil {
					return err
				}
			}
			msg, err := st.Read(e, key)
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(msg)
			return err
		},
	}

	var mbox, maildir string
	export := &cobra.Command{
		Use:   "export LIST (--mbox FILE|- | --maildir DIR)",
		Short: "Export a list's archive, decrypted, as an mbox (mboxrd) or a Maildir; encrypted archives need the passphrase",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if (mbox == "") == (maildir == "") {
				return errors.New("give one of --mbox FILE (- for standard output) or --maildir DIR")
			}
			s, list, err := a.archiveSite(args[0])
			if err != nil {
				return err
			}
			st := archive.For(s, list)
			es, err := st.Entries()
			if err != nil {
				return err
			}
			var key *openpgp.Entity
			for _, e := range es {
				if e.Encrypted {
					if key, err = archiveSecret(s, list, passFile); err != nil {
						return err
					}
					break
				}
			}
			var n int
			if maildir != "" {
				n, err = st.ExportMaildir(maildir, key)
			} else {
				var w io.Writer = cmd.OutOrStdout()
				if mbox != "-" {
					f, ferr := os.OpenFile(mbox, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
					if ferr != nil {
						return fmt.Errorf("create mbox: %w", ferr)
					}
					defer f.Close()
					w = f
				}
				n, err = st.ExportMbox(w, key)
			}
			if err != nil {
				return err
			}
			if mbox != "-" {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: %d messages exported\n", list, n)
			}
			return nil
		},
	}
	export.Flags().StringVar(&mbox, "mbox", "", "write an mbox to FILE (created, never overwritten; - for standard output)")
	export.Flags().StringVar(&maildir, "maildir", "", "write the messages into the Maildir DIR")

	key := &cobra.Command{
		Use:   "key LIST",
		Short: "Make the list's archive key now (the archive runner makes it on first use) and print its fingerprint",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, list, err := a.archiveSite(args[0])
			if err != nil {
				return err
			}
			k := s.Keyring
			if k == nil {
				return errors.New("no keyring")
			}
			if pub, err := k.ArchiveKey(list); err == nil {
				fmt.Fprintf(cmd.OutOrStdout(), "%s: archive key %s (stored as %s)\n", list, keyring.Fingerprint(pub), keyring.ArchiveName(list))
				return nil
			}
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			res, err := api.ListKeyGenerate(cmd.Context(), actor, service.ListKeyGenerateRequest{List: list, Kind: "archive"})
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: archive key %s made (stored as %s)\n", list, res.Fingerprint, keyring.ArchiveName(list))
			return nil
		},
	}

	expire := &cobra.Command{
		Use:   "expire",
		Short: "Remove archived messages older than each list's archive_keep_days",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			n, err := archive.Expire(s, time.Now())
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%d archived messages removed\n", n)
			return nil
		},
	}
	c.AddCommand(ls, show, export, key, expire)
	return c
}

// archiveSite opens the site and checks that the list exists.
func (a *app) archiveSite(name string) (*site.Site, string, error) {
	s, err := a.open()
	if err != nil {
		return nil, "", err
	}
	list := listAddress(s, name)
	err = s.Lists.View(func(tx *lists.Tx) error {
		_, err := tx.List(list)
		return err
	})
	if err != nil {
		return nil, "", err
	}
	return s, list, nil
}

// archiveSecret unlocks the archive key of list with the keyring
// passphrase: from passFile when given, else the site's.
func archiveSecret(s *site.Site, list, passFile string) (*openpgp.Entity, error) {
	k := s.Keyring
	if passFile != "" {
		pass, err := keyring.ReadPassphraseFile(passFile)
		if err != nil {
			return nil, err
		}
		if k, err = keyring.Open(s.Config.KeyringDB(), pass, nil); err != nil {
			return nil, err
		}
		defer k.Close()
	}
	if k == nil {
		return nil, errors.New("no keyring")
	}
	key, err := k.ArchiveSecretKey(list)
	if err != nil {
		return nil, fmt.Errorf("the archive of %s is encrypted and its archive key does not open (%w); give the keyring passphrase with keyring_passphrase_file or --passphrase-file", list, err)
	}
	return key, nil
}
