package main

import (
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"cloister/internal/config"
	"cloister/internal/safeio"
	"cloister/internal/seal"
	"cloister/internal/site"
)

// writeSecret writes a random passphrase file readable by its owner only.
func writeSecret(path string) error {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return err
	}
	return safeio.WriteFile(path, []byte(fmt.Sprintf("%x\n", b)), 0o600, safeio.CreateOnly())
}

func (a *app) initCmd() *cobra.Command {
	var stateDir, domain, smtpAddr string
	var force, system, newConfig bool
	sys := systemLayout{}
	c := &cobra.Command{
		Use:   "init",
		Short: "Create a site: DIR/cloister.toml and the state it names",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if domain == "" {
				return errors.New("--domain is required (the mail domain of the lists)")
			}
			if system && !cmd.Flags().Changed("state-dir") {
				stateDir = systemStateDir
			}
			abs, err := filepath.Abs(stateDir)
			if err != nil {
				return err
			}
			path := filepath.Join(abs, "cloister.toml")
			secrets := filepath.Join(abs, "secrets")
			var uid, gid int
			if system {
				// An installed site: private state, config in /etc/cloister,
				// secrets as systemd credentials (docs/operators.md).
				sys.StateDir = abs
				if uid, gid, err = sys.owner(); err != nil {
					return err
				}
				if err := makePrivateDir(abs); err != nil {
					return err
				}
				if err := os.MkdirAll(sys.ConfigDir, 0o755); err != nil {
					return fmt.Errorf("create config dir: %w", err)
				}
				path = filepath.Join(sys.ConfigDir, "cloister.toml")
				secrets = sys.CredentialsDir
				if err := makePrivateDir(secrets); err != nil {
					return err
				}
			} else if err := os.MkdirAll(abs, 0o750); err != nil {
				return fmt.Errorf("create state dir: %w", err)
			}
			// --force makes a site's missing state again; it keeps an
			// existing cloister.toml (a restored or edited one) unless
			// --new-config.
			keep := false
			if _, err := os.Stat(path); err == nil {
				if !force {
					return fmt.Errorf("%s exists (use --force to keep it and make the missing state, --force --new-config to overwrite it)", path)
				}
				keep = !newConfig
			}
			// The secrets: the queue key seals plaintext of encrypted posts in
			// the queues, the passphrase encrypts private keys in keyring.db.
			// Installed sites move them to systemd credentials (LoadCredential=).
			if err := os.MkdirAll(secrets, 0o700); err != nil {
				return fmt.Errorf("create secrets dir: %w", err)
			}
			queueKey := filepath.Join(secrets, "queue-key")
			if _, err := os.Stat(queueKey); os.IsNotExist(err) {
				if err := seal.Generate(queueKey); err != nil {
					return err
				}
			}
			passFile := filepath.Join(secrets, "keyring-passphrase")
			if _, err := os.Stat(passFile); os.IsNotExist(err) {
				if err := writeSecret(passFile); err != nil {
					return err
				}
			}
			sample := config.Sample(abs, domain, smtpAddr) +
				fmt.Sprintf("\n# Written by cloister init; see docs/operators.md for systemd credentials.\nkeyring_passphrase_file = %q\nqueue_key_file = %q\n", passFile, queueKey)
			if system {
				sample = config.Sample(abs, domain, smtpAddr) + systemConfigNote(secrets)
			}
			if keep {
				old, err := os.ReadFile(path)
				if err != nil {
					return fmt.Errorf("read %s: %w", path, err)
				}
				sample = string(old)
			}
			cfg, err := config.Parse([]byte(sample))
			if err != nil {
				return fmt.Errorf("config %s: %w", path, err)
			}
			if keep && cfg.Domain != strings.ToLower(domain) {
				return fmt.Errorf("%s serves domain %s, not %s: give --domain %s, or --new-config to overwrite it", path, cfg.Domain, domain, cfg.Domain)
			}
			if keep && cfg.StateDir != abs {
				return fmt.Errorf("%s has state_dir %s, not %s: give --state-dir %s, or --new-config to overwrite it", path, cfg.StateDir, abs, cfg.StateDir)
			}
			if err := cfg.Check(); err != nil {
				return err
			}
			if !keep {
				err = safeio.WriteFunc(path, 0o640, func(w io.Writer) error {
					_, err := io.WriteString(w, sample)
					return err
				})
				if err != nil {
					return err
				}
			}
			cfg.Path = path
			if system {
				// The site is opened once here with the secrets at hand.
				cfg.KeyringPassphraseFile, cfg.QueueKeyFile = passFile, queueKey
			}
			st, err := site.Open(cfg, a.logger())
			if err != nil {
				return err
			}
			// The bounce secret signs VERP addresses (docs/operators.md); it
			// stays in the state directory and goes into backups.
			if _, err := st.BounceSecret(); err != nil {
				return err
			}
			if system {
				if err := os.Chown(path, 0, gid); err != nil && os.Geteuid() == 0 {
					return fmt.Errorf("chown %s: %w", path, err)
				}
				if err := sys.secure(uid, gid); err != nil {
					return err
				}
			}
			verb := "created"
			if keep {
				verb = "kept the existing configuration (--new-config overwrites it):"
			}
			fmt.Fprintf(cmd.OutOrStdout(), "%s %s\nuse it with --config %s or CLOISTER_CONFIG=%s\n", verb, path, path, path)
			return nil
		},
	}
	c.Flags().StringVar(&stateDir, "state-dir", "var", "state directory")
	c.Flags().StringVar(&domain, "domain", "", "mail domain of the lists")
	c.Flags().StringVar(&smtpAddr, "smtp", config.DefaultSMTPAddr, "MTA address for outgoing mail (host:port)")
	c.Flags().BoolVar(&force, "force", false, "over an existing site: keep its cloister.toml and make what is missing")
	c.Flags().BoolVar(&newConfig, "new-config", false, "with --force: overwrite an existing cloister.toml with a fresh one")
	c.Flags().BoolVar(&system, "system", false, "an installed site: state in /var/lib/cloister (0700, owned by --user), config in --config-dir, secrets in --credentials-dir for LoadCredential=; refuses looser permissions")
	c.Flags().StringVar(&sys.ConfigDir, "config-dir", systemConfigDir, "with --system: where cloister.toml goes")
	c.Flags().StringVar(&sys.CredentialsDir, "credentials-dir", systemCredentialsDir, "with --system: where the keyring passphrase and the queue key go")
	c.Flags().StringVar(&sys.User, "user", "cloister", "with --system: the user the runners and deliver run as")
	return c
}
