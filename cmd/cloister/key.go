package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"cloister/internal/site"
	"cloister/keyring"
	"cloister/service"
)

// openKeyring opens the site and its keyring.
func (a *app) openKeyring() (*site.Site, *keyring.Keyring, error) {
	s, err := a.open()
	if err != nil {
		return nil, nil, err
	}
	if k := s.Keyring; k != nil {
		return s, k, nil
	}
	k, err := keyring.OpenSite(s.Config)
	if err != nil {
		return nil, nil, err
	}
	return s, k, nil
}

// isOpenPGP tells an OpenPGP key file (armored, or binary packets) from
// X.509 and PKCS#12 input (PEM, or DER starting with a SEQUENCE).
func isOpenPGP(data []byte) bool {
	if bytes.Contains(data, []byte("-----BEGIN PGP")) {
		return true
	}
	return len(data) > 0 && data[0]&0x80 != 0
}

// readKeyFile reads a key or certificate file, bounded.
func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if fi.Size() > 1<<20 {
		return nil, fmt.Errorf("%s is larger than 1 MiB", path)
	}
	return os.ReadFile(path)
}

func (a *app) keyCmd() *cobra.Command {
	c := &cobra.Command{Use: "key", Short: "Manage list keys and certificates and subscribers' keys"}
	c.AddCommand(a.keyGenerateCmd(), a.keyImportCmd(), a.keyExportCmd(), a.keyCSRCmd(), a.keyAddCmd(), a.keyLsCmd(), a.keyRevokeCmd(), a.keyPassphraseCmd(),
		a.keyFetchCmd(), a.keyCheckExpiryCmd(), a.keyPendingCmd(), a.keyDecideCmd(true), a.keyDecideCmd(false))
	return c
}

func (a *app) keyGenerateCmd() *cobra.Command {
	var usePGP, useSMIME bool
	var rsaBits int
	var name string
	c := &cobra.Command{
		Use:   "generate LIST",
		Short: "Make the list's OpenPGP key (default Ed25519/Curve25519) or a self-signed S/MIME certificate",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if usePGP && useSMIME {
				return errors.New("give --pgp or --smime, not both")
			}
			req := service.ListKeyGenerateRequest{List: args[0], Kind: "openpgp", RSABits: rsaBits, Name: name}
			if useSMIME {
				req.Kind = "smime"
			} else if rsaBits != 0 && rsaBits != 3072 && rsaBits != 4096 {
				return fmt.Errorf("--rsa %d: use 3072 or 4096", rsaBits)
			}
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			res, err := api.ListKeyGenerate(cmd.Context(), actor, req)
			if err != nil {
				return cliError(err)
			}
			list, fpr := res.List, res.Fingerprint
			kind := "OpenPGP key"
			if useSMIME {
				kind = "self-signed S/MIME certificate (key csr LIST makes a request for a CA)"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s %s\n", list, kind, fpr)
			return nil
		},
	}
	c.Flags().BoolVar(&usePGP, "pgp", false, "an OpenPGP key (the default)")
	c.Flags().BoolVar(&useSMIME, "smime", false, "an S/MIME key and self-signed certificate")
	c.Flags().IntVar(&rsaBits, "rsa", 0, "RSA key size (3072 or 4096) instead of Curve25519; for --smime, the RSA size (default 3072)")
	c.Flags().StringVar(&name, "name", "", "name in the OpenPGP user ID (default: the list's local part)")
	return c
}

func (a *app) keyImportCmd() *cobra.Command {
	var password string
	c := &cobra.Command{
		Use:   "import LIST FILE | import FILE|DIR",
		Short: "Import the list's secret key (OpenPGP, PKCS#12, or PEM certificate and key); with one argument, subscribers' public keys in bulk (keyimport.go)",
		Args:  cobra.RangeArgs(1, 2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 1 {
				return a.importSubscriberKeys(cmd, args[0])
			}
			data, err := readKeyFile(args[1])
			if err != nil {
				return err
			}
			req := service.ListKeyImportRequest{List: args[0], Kind: "smime", Key: data, Password: password}
			kind := "S/MIME certificate"
			if isOpenPGP(data) {
				req.Kind, kind = "openpgp", "OpenPGP key"
			}
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			res, err := api.ListKeyImport(cmd.Context(), actor, req)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: %s %s\n", res.List, kind, res.Fingerprint)
			return nil
		},
	}
	c.Flags().StringVar(&password, "password", "", "passphrase of the OpenPGP key or password of the PKCS#12 bundle")
	return c
}

func (a *app) keyExportCmd() *cobra.Command {
	var useSMIME bool
	c := &cobra.Command{
		Use:   "export LIST",
		Short: "Print the list's public key (armored) or, with --smime, its certificate and chain (PEM)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			kind := "openpgp"
			if useSMIME {
				kind = "smime"
			}
			ex, err := api.ListKeyExport(cmd.Context(), actor, service.ListKeyRequest{List: args[0], Kind: kind})
			if err != nil {
				return cliError(err)
			}
			_, err = cmd.OutOrStdout().Write(ex.Data)
			return err
		},
	}
	c.Flags().BoolVar(&useSMIME, "smime", false, "the S/MIME certificate instead of the OpenPGP key")
	return c
}

func (a *app) keyCSRCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "csr LIST",
		Short: "Print a certificate signing request (PEM) for the list's S/MIME key, for a CA",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, k, err := a.openKeyring()
			if err != nil {
				return err
			}
			out, err := k.CSR(listAddress(s, args[0]))
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
}

func (a *app) keyAddCmd() *cobra.Command {
	var bind bool
	var use string
	c := &cobra.Command{
		Use:   "add ADDRESS FILE",
		Short: "Add a subscriber's OpenPGP public key or S/MIME certificate (PEM or DER)",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			data, err := readKeyFile(args[1])
			if err != nil {
				return err
			}
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			// The service prints a "told" line for each announcement
			// (cliKeyWorkflows) after the key's own line.
			out := cmd.OutOrStdout()
			var told bytes.Buffer
			cmd.SetOut(&told)
			sk, err := api.KeyAdd(cmd.Context(), actor, service.KeyAddRequest{Address: args[0], Key: data, Bind: bind, Use: use})
			cmd.SetOut(out)
			if err != nil {
				return cliError(err)
			}
			kind := "OpenPGP key"
			if !isOpenPGP(data) {
				kind = "certificate"
			}
			warnUnbound(cmd.ErrOrStderr(), args[0], data)
			fmt.Fprintf(out, "%s: %s %s\n", strings.ToLower(args[0]), kind, sk.Fingerprint)
			_, err = out.Write(told.Bytes())
			return err
		},
	}
	c.Flags().BoolVar(&bind, "bind", false, "bind an OpenPGP key to ADDRESS even though no user ID carries it (the owner vouches)")
	c.Flags().StringVar(&use, "use", "both", "what a certificate is for: sign, encrypt or both")
	return c
}

// warnUnbound tells the operator which other addresses the key or
// certificate just added for address names but is not bound to: its
// signatures do not authenticate them.
func warnUnbound(w io.Writer, address string, data []byte) {
	if others := keyring.UnboundAddresses(address, data); len(others) > 0 {
		fmt.Fprintf(w, "warning: the key also names %s; it is bound to %s only, and its signatures do not authenticate the others\n",
			strings.Join(others, ", "), strings.ToLower(address))
	}
}

func (a *app) keyLsCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "ls [LIST|ADDRESS]",
		Short: "List keys and certificates with their state now",
		Args:  cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, k, err := a.openKeyring()
			if err != nil {
				return err
			}
			ents, err := k.Entries(time.Now())
			if err != nil {
				return err
			}
			w := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 4, 2, ' ', 0)
			fmt.Fprintln(w, "ADDRESS\tOWNER\tKIND\tFINGERPRINT\tCREATED\tEXPIRES\tUSABLE\tSTATE\tNOTE")
			for _, e := range ents {
				if len(args) == 1 && e.Address != listAddress(s, args[0]) {
					continue
				}
				owner, expires, usable := "member", "never", strings.Join(e.Usable, ",")
				if e.List {
					owner = "list"
				}
				if !e.Expires.IsZero() {
					expires = e.Expires.UTC().Format(time.DateOnly)
				}
				if usable == "" {
					usable = "-"
				}
				fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Address, owner, e.Kind, e.Fingerprint,
					e.Created.UTC().Format(time.DateOnly), expires, usable, e.State, e.Note)
			}
			return w.Flush()
		},
	}
}

func (a *app) keyRevokeCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "revoke LIST|ADDRESS FINGERPRINT",
		Short: "Revoke the list's OpenPGP key (or remove its certificate), or remove a subscriber's key",
		Args:  cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			want := strings.ToUpper(strings.TrimPrefix(strings.ReplaceAll(args[1], " ", ""), "0x"))
			if len(want) < 16 {
				return fmt.Errorf("fingerprint %q: give at least 16 hex digits", args[1])
			}
			if a.remoteAPI() != "" {
				return a.keyRevokeRemote(cmd, args[0], want)
			}
			s, k, err := a.openKeyring()
			if err != nil {
				return err
			}
			addr := listAddress(s, args[0])
			ents, err := k.Entries(time.Now())
			if err != nil {
				return err
			}
			for _, e := range ents {
				if !e.List || e.Address != addr || !strings.HasSuffix(e.Fingerprint, want) {
					continue
				}
				api, actor, err := a.services(cmd)
				if err != nil {
					return err
				}
				res, err := api.ListKeyRevoke(cmd.Context(), actor, service.ListKeyRevokeRequest{List: addr, Fingerprint: e.Fingerprint})
				if err != nil {
					return cliError(err)
				}
				if e.Kind == keyring.KindPGP {
					fmt.Fprintf(cmd.OutOrStdout(), "%s: revoked OpenPGP key %s (publish it: key export %s)\n", addr, res.Fingerprint, addr)
					return nil
				}
				fmt.Fprintf(cmd.OutOrStdout(), "%s: removed certificate %s (ask its CA to revoke it)\n", addr, res.Fingerprint)
				return nil
			}
			// A subscriber's key: removed through the service, which records
			// it and announces it.
			fpr := want
			for _, e := range ents {
				if !e.List && strings.EqualFold(e.Address, addr) && strings.HasSuffix(e.Fingerprint, want) {
					fpr = e.Fingerprint
				}
			}
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			var told bytes.Buffer
			cmd.SetOut(&told)
			err = api.KeyRevoke(cmd.Context(), actor, service.KeyRevokeRequest{Address: addr, Fingerprint: want})
			cmd.SetOut(out)
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(out, "%s: removed key %s\n", addr, fpr)
			_, err = out.Write(told.Bytes())
			return err
		},
	}
}

// keyRevokeRemote is key revoke through the API: the list's key of that
// fingerprint when name is a list that has one, else the subscriber key of
// the address name.
func (a *app) keyRevokeRemote(cmd *cobra.Command, name, want string) error {
	api, actor, err := a.services(cmd)
	if err != nil {
		return err
	}
	res, err := api.ListKeyRevoke(cmd.Context(), actor, service.ListKeyRevokeRequest{List: name, Fingerprint: want})
	switch {
	case err == nil && res.Kind == string(keyring.KindPGP):
		fmt.Fprintf(cmd.OutOrStdout(), "%s: revoked OpenPGP key %s (publish it: key export %s)\n", res.List, res.Fingerprint, res.List)
		return nil
	case err == nil:
		fmt.Fprintf(cmd.OutOrStdout(), "%s: removed certificate %s (ask its CA to revoke it)\n", res.List, res.Fingerprint)
		return nil
	case service.Code(err) != service.CodeNotFound:
		return cliError(err)
	}
	if err := api.KeyRevoke(cmd.Context(), actor, service.KeyRevokeRequest{Address: name, Fingerprint: want}); err != nil {
		return cliError(err)
	}
	fmt.Fprintf(cmd.OutOrStdout(), "%s: removed key %s\n", name, want)
	return nil
}

func (a *app) keyPassphraseCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "passphrase NEWFILE",
		Short: "Re-seal every list's private key under the passphrase in NEWFILE",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pass, err := keyring.ReadPassphraseFile(args[0])
			if err != nil {
				return err
			}
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			n, err := api.KeyringRekey(cmd.Context(), actor, service.RekeyRequest{Passphrase: pass})
			if err != nil {
				return cliError(err)
			}
			if a.remoteAPI() != "" {
				fmt.Fprintf(cmd.OutOrStdout(), "re-sealed %d list keys on the server: put the passphrase of %s in its keyring_passphrase_file (or the keyring-passphrase credential) and restart its runners and API daemon\n", n, args[0])
				return nil
			}
			fmt.Fprintf(cmd.OutOrStdout(), "re-sealed %d list keys: point keyring_passphrase_file (or the keyring-passphrase credential) at %s and restart the runners\n", n, args[0])
			return nil
		},
	}
}

func (a *app) keyFetchCmd() *cobra.Command {
	var f keyring.Fetcher
	var wkd bool
	c := &cobra.Command{
		Use:   "fetch ADDRESS",
		Short: "Fetch a subscriber's OpenPGP key by WKD (and from a VKS keyserver) and add it",
		Long: "Fetch ADDRESS's OpenPGP key from the Web Key Directory of its domain (advanced method, then\n" +
			"direct method) and, with --keyserver, from a keyserver speaking the VKS API\n" +
			"(GET URL/vks/v1/by-email/ADDRESS). Only a key with a self-signed user ID carrying ADDRESS is\n" +
			"taken; third-party certifications are dropped; responses are limited to 1 MiB.",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if f.Keyserver == "" && a.remoteAPI() == "" {
				s, err := a.open()
				if err != nil {
					return err
				}
				f.Keyserver = s.Config.Keyserver
			}
			f.NoWKD = !wkd
			got, err := f.Fetch(context.Background(), args[0])
			if err != nil {
				return err
			}
			// The service binds the key (it must carry the address) and
			// announces it.
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			k, err := api.KeyAdd(cmd.Context(), actor, service.KeyAddRequest{Address: args[0], Key: got.Key})
			if err != nil {
				return cliError(err)
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s: OpenPGP key %s from %s\n", strings.ToLower(args[0]), k.Fingerprint, got.Source)
			return nil
		},
	}
	c.Flags().StringVar(&f.Keyserver, "keyserver", "", "base URL of a VKS keyserver, e.g. https://keys.openpgp.org (default: keyserver in cloister.toml)")
	c.Flags().BoolVar(&wkd, "wkd", true, "look in the Web Key Directory (--wkd=false: keyserver only)")
	c.Flags().DurationVar(&f.Timeout, "timeout", keyring.DefaultFetchTimeout, "bound on each HTTP exchange")
	return c
}

func (a *app) keyCheckExpiryCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "check-expiry",
		Short: "Mail the people whose keys or certificates expire soon, and owners of lists whose own do",
		Long: "Queue a notice to each person on a list's roster whose OpenPGP key expires within the list's\n" +
			"key_warn_days (or certificate within cert_warn_days), and to the owners when the list's own key\n" +
			"or certificate does; each key is warned of once per expiry date. Run it daily (a systemd timer\n" +
			"or cron); `cloister runners` does it by itself. The outgoing runner sends the notices.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			api, actor, err := a.services(cmd)
			if err != nil {
				return err
			}
			sent, err := api.KeyExpiryNotices(cmd.Context(), actor)
			fmt.Fprintf(cmd.OutOrStdout(), "queued %d expiry notices\n", sent)
			if err != nil {
				return cliError(err)
			}
			return nil
		},
	}
}
