package main

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"cloister/bounce"
	"cloister/internal/config"
	"cloister/internal/seal"
	"cloister/internal/site"
	"cloister/keyexpiry"
	"cloister/keyring"
	"cloister/lists"
	"cloister/mta"
	"cloister/rules"
)

// checkReport collects what cloister check finds: one line per finding,
// "CLASS OK: ..." or "problem: CLASS: ...", and the count of problems.
type checkReport struct {
	w        io.Writer
	problems int
}

func (r *checkReport) ok(class, format string, args ...any) {
	fmt.Fprintf(r.w, "%s OK: %s\n", class, fmt.Sprintf(format, args...))
}

func (r *checkReport) problem(class, format string, args ...any) {
	fmt.Fprintf(r.w, "problem: %s: %s\n", class, fmt.Sprintf(format, args...))
	r.problems++
}

func (r *checkReport) note(class, format string, args ...any) {
	fmt.Fprintf(r.w, "%s: %s\n", class, fmt.Sprintf(format, args...))
}

func (a *app) checkCmd() *cobra.Command {
	var postfixDir, eximLists string
	var mtaTimeout time.Duration
	c := &cobra.Command{
		Use:   "check",
		Short: "Check the configuration, secrets, CA files, the MTA and its maps, scenarios and keys; report every problem at once",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			r := &checkReport{w: cmd.OutOrStdout()}
			cfg, err := config.Load(a.configPath)
			if err != nil {
				for _, l := range strings.Split(err.Error(), "\n") {
					if strings.TrimSpace(l) != "" {
						r.problem("config", "%s", l)
					}
				}
				return fmt.Errorf("the configuration cannot be read, so nothing else was checked")
			}
			r.ok("config", "%s", cfg.Path)
			checkSecrets(r, cfg)
			checkCAFiles(r, cfg)
			checkMTA(r, cfg, mtaTimeout)
			var s *site.Site
			if _, err := os.Stat(cfg.ListsDB()); err == nil {
				// The site without its keyring: a keyring problem is a
				// secrets problem above, and the rest is checked anyway.
				if s, err = site.Open(cfg, a.logger()); err != nil {
					r.problem("site", "%v", err)
				}
			}
			if s != nil {
				checkMaps(r, s, postfixDir, eximLists)
				a.checkScenarios(r, s)
				if _, err := os.Stat(cfg.KeyringDB()); err == nil {
					if k, err := keyring.OpenSite(cfg); err != nil {
						r.note("keys", "expiry not checked: open keyring: %v", err)
					} else {
						s.SetKeyring(k)
						checkExpiring(r, s, time.Now())
					}
				}
			}
			if r.problems > 0 {
				return fmt.Errorf("%d problems found", r.problems)
			}
			return nil
		},
	}
	c.Flags().StringVar(&postfixDir, "postfix-dir", "/etc/postfix", "where the Postfix maps cloister_recipients and cloister_transport are")
	c.Flags().StringVar(&eximLists, "exim-lists", mta.DefaultEximLists, "the Exim lists file")
	c.Flags().DurationVar(&mtaTimeout, "mta-timeout", 10*time.Second, "how long to wait for the MTA at smtp_addr to greet")
	return c
}

// checkSecrets checks the keyring passphrase, the queue key and the bounce
// secret: readable, well-formed, and private.
func checkSecrets(r *checkReport, cfg *config.Config) {
	if _, err := keyring.LoadPassphrase(cfg); err != nil {
		r.problem("secrets", "%v", err)
	} else {
		r.ok("secrets", "keyring passphrase readable and private")
	}
	path := cfg.QueueKeyFile
	if path == "" && os.Getenv("CREDENTIALS_DIRECTORY") != "" {
		path = filepath.Join(os.Getenv("CREDENTIALS_DIRECTORY"), "queue-key")
	}
	if _, err := seal.Load(cfg.QueueKeyFile); err != nil {
		r.problem("secrets", "queue key: %v (encrypted posts cannot be processed)", err)
	} else if err := checkPrivateFile(path); err != nil {
		r.problem("secrets", "queue key: %v", err)
	} else {
		r.ok("secrets", "queue key %s readable and private", path)
	}
	bs := cfg.BounceSecretPath()
	if _, err := os.Stat(bs); errors.Is(err, fs.ErrNotExist) {
		r.note("secrets", "no bounce secret yet at %s (the first runner that needs it makes it)", bs)
	} else if _, err := bounce.LoadSecret(bs); err != nil {
		r.problem("secrets", "%v", err)
	} else {
		r.ok("secrets", "bounce secret %s readable and private", bs)
	}
}

// checkPrivateFile refuses a secret that its group or others may read.
func checkPrivateFile(path string) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return fmt.Errorf("%s has mode %04o, looser than 0600: chmod 600 %s", path, perm, path)
	}
	return nil
}

// checkCAFiles checks the S/MIME trust anchors and CRLs the configuration
// names.
func checkCAFiles(r *checkReport, cfg *config.Config) {
	if cfg.SMIMECAFile == "" && cfg.SMIMECAPath == "" {
		r.note("CA files", "neither smime_cafile nor smime_capath is set: S/MIME signatures are checked against nothing but certificates added to the keyring")
	}
	if cfg.SMIMECAFile != "" {
		if n, err := countCerts(cfg.SMIMECAFile); err != nil {
			r.problem("CA files", "smime_cafile %s: %v", cfg.SMIMECAFile, err)
		} else {
			r.ok("CA files", "smime_cafile %s holds %d certificates", cfg.SMIMECAFile, n)
		}
	}
	for _, d := range []struct{ key, dir string }{{"smime_capath", cfg.SMIMECAPath}, {"smime_crl_dir", cfg.SMIMECRLDir}} {
		if d.dir == "" {
			continue
		}
		if entries, err := os.ReadDir(d.dir); err != nil {
			r.problem("CA files", "%s %s: %v", d.key, d.dir, err)
		} else {
			r.ok("CA files", "%s %s: %d files", d.key, d.dir, len(entries))
		}
	}
}

// countCerts counts the certificates of a PEM file, failing on one that
// does not parse or a file that holds none.
func countCerts(path string) (int, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "CERTIFICATE" {
			continue
		}
		if _, err := x509.ParseCertificate(b.Bytes); err != nil {
			return n, fmt.Errorf("certificate %d: %w", n+1, err)
		}
		n++
	}
	if n == 0 {
		return 0, errors.New("no PEM certificate in it")
	}
	return n, nil
}

// checkMTA connects to smtp_addr and greets the MTA as the outgoing runner
// does.
func checkMTA(r *checkReport, cfg *config.Config, timeout time.Duration) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	c := &mta.Client{Addr: cfg.SMTPAddr, Helo: cfg.Domain, Timeout: timeout}
	sess, err := c.Open(ctx)
	if err != nil {
		r.problem("MTA", "%v (deliveries wait in the retry queue until it answers)", err)
		return
	}
	sess.Close()
	r.ok("MTA", "%s answers SMTP", cfg.SMTPAddr)
}

// mapAddresses reads the keys of a map file: the first field of each line
// that is not a comment.
func mapAddresses(path string) (map[string]bool, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	out := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "#") {
			continue
		}
		out[strings.ToLower(strings.Fields(l)[0])] = true
	}
	return out, nil
}

// compareMap reports a map file that lacks an address it needs or holds one
// no list has.
func compareMap(r *checkReport, path string, want []string, fix string) {
	got, err := mapAddresses(path)
	if err != nil {
		r.problem("MTA maps", "%v", err)
		return
	}
	var missing, extra []string
	wantSet := map[string]bool{}
	for _, a := range want {
		wantSet[a] = true
		if !got[a] {
			missing = append(missing, a)
		}
	}
	for a := range got {
		if !wantSet[a] {
			extra = append(extra, a)
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing) == 0 && len(extra) == 0 {
		r.ok("MTA maps", "%s is current (%d addresses)", path, len(want))
		return
	}
	if len(missing) > 0 {
		r.problem("MTA maps", "%s lacks %d addresses (%s): mail to them is refused; %s", path, len(missing), firstFew(missing), fix)
	}
	if len(extra) > 0 {
		r.problem("MTA maps", "%s has %d addresses no list has (%s); %s", path, len(extra), firstFew(extra), fix)
	}
}

func firstFew(s []string) string {
	if len(s) > 3 {
		return strings.Join(s[:3], ", ") + ", ..."
	}
	return strings.Join(s, ", ")
}

// checkMaps compares the MTA's maps, where they exist, with the site's
// lists: Postfix's cloister_recipients (and that postmap ran after its last
// change) and cloister_transport, and Exim's lists file.
func checkMaps(r *checkReport, s *site.Site, postfixDir, eximLists string) {
	var addrs []string
	if err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		addrs, err = tx.ListAddresses()
		return err
	}); err != nil {
		r.problem("MTA maps", "read lists: %v", err)
		return
	}
	found := false
	transport, recipients, _, _ := mta.PostfixTransport(s.Config.Domain, addrs, mta.DefaultDeliver, s.Config.Path)
	rpath := filepath.Join(postfixDir, "cloister_recipients")
	if fi, err := os.Stat(rpath); err == nil {
		found = true
		var want []string
		for _, l := range strings.Split(strings.TrimSpace(recipients), "\n") {
			if f := strings.Fields(l); len(f) > 0 {
				want = append(want, f[0])
			}
		}
		compareMap(r, rpath, want, "rewrite it from cloister aliases --mta postfix and postmap it")
		if db, err := os.Stat(rpath + ".db"); err == nil && db.ModTime().Before(fi.ModTime()) {
			r.problem("MTA maps", "%s.db is older than %s: run postmap %s", rpath, rpath, rpath)
		} else if errors.Is(err, fs.ErrNotExist) {
			if _, lerr := os.Stat(rpath + ".lmdb"); lerr != nil {
				r.problem("MTA maps", "%s was never postmapped: run postmap %s", rpath, rpath)
			}
		}
	}
	tpath := filepath.Join(postfixDir, "cloister_transport")
	if _, err := os.Stat(tpath); err == nil {
		found = true
		got, err := mapAddresses(tpath)
		if err != nil {
			r.problem("MTA maps", "%v", err)
		} else if domain := strings.Fields(transport)[0]; !got[domain] {
			r.problem("MTA maps", "%s does not route %s to cloister: add %q and postmap it", tpath, domain, strings.TrimSpace(transport))
		} else {
			r.ok("MTA maps", "%s routes %s to cloister", tpath, domain)
		}
	}
	if eximLists != "" {
		if _, err := os.Stat(eximLists); err == nil {
			found = true
			compareMap(r, eximLists, addrs, "rewrite it from cloister aliases --mta exim")
		}
	}
	if checkSocketmap(r, s, addrs, postfixDir, 2*time.Second) {
		found = true
	}
	if !found {
		r.note("MTA maps", "none found (the socketmap, %s/cloister_recipients, %s); skipped", postfixDir, eximLists)
	}
}

// checkExpiring prints the list keys and certificates, and the keys and
// certificates of people on a roster, that stop being usable within their
// list's key_warn_days or cert_warn_days (as Sympa's chk_cert_expiration
// reports them). They are warnings, not problems: the keys still work.
func checkExpiring(r *checkReport, s *site.Site, now time.Time) {
	dues, err := keyexpiry.DueExpiries(s, now)
	if err != nil {
		r.problem("keys", "expiring keys: %v", err)
		return
	}
	for _, d := range dues {
		what, setting := "OpenPGP key", "key_warn_days"
		days := d.List.Settings.KeyWarnDays
		if d.Key.Kind == keyring.KindX509 {
			what, setting, days = "certificate", "cert_warn_days", d.List.Settings.CertWarnDays
		}
		whose := "the list's own"
		if !d.Key.List {
			whose = d.Key.Address + "'s"
		}
		left := int(math.Ceil(d.Key.Ends.Sub(now).Hours() / 24))
		fmt.Fprintf(r.w, "expiring: %s: %s %s %s ends %s (in %d days; %s %d)\n", d.List.Address, whose, what,
			d.Key.Fingerprint, d.Key.Ends.UTC().Format(time.DateOnly), left, setting, days)
	}
	if len(dues) == 0 {
		r.ok("keys", "none expires within its list's warning days")
	}
}

// checkScenarios reports each list setting that names a scenario the site
// does not have (a file removed from scenario_dir after `list set`): the
// list would refuse every request of that operation.
func (a *app) checkScenarios(r *checkReport, s *site.Site) {
	var ls []*lists.List
	if err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		ls, err = tx.Lists()
		return err
	}); err != nil {
		r.problem("scenarios", "read lists: %v", err)
		return
	}
	missing := 0
	for _, l := range ls {
		if l.Settings.BatchSize > 1 && l.Settings.HiddenRecipients {
			fmt.Fprintf(r.w, "warning: %s: batch_size %d with hidden_recipients: encrypted batches hide key IDs, which rnp 0.16, sqop and PGPy cannot decrypt (docs/subscribers.md)\n", l.Address, l.Settings.BatchSize)
		}
		for _, op := range rules.ScenarioOperations() {
			if err := scenarioExists(s, op, l.Settings); err != nil {
				fmt.Fprintf(r.w, "scenario missing: %s: %v\n", l.Address, err)
				r.problems++
				missing++
			}
		}
	}
	if missing == 0 {
		r.ok("scenarios", "every setting of %d lists names an existing scenario", len(ls))
	}
}
