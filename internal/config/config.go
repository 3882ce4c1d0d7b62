// Package config reads the site configuration, cloister.toml, with strict
// decoding: an unknown key is an error, and Check reports every problem at once.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"

	"cloister/internal/clamd"
)

// Config is the site configuration. Each field is documented once, here; the
// sample etc/cloister.toml is checked against this struct by a test.
type Config struct {
	// StateDir holds cloister.db, keyring.db, the queues, the archives and
	// lists.idx. Default: the directory of the config file's "var" for a
	// checkout; /var/lib/cloister when installed.
	StateDir string `toml:"state_dir"`
	// Domain is the mail domain of the lists, e.g. lists.example.org.
	Domain string `toml:"domain"`
	// Domains are further mail domains the site serves besides domain. A
	// list can be created only in domain or one of these; the MTA lookup
	// service (`cloister mta socketmap`) routes all of them to deliver.
	Domains []string `toml:"domains"`
	// SocketmapListen is where `cloister mta socketmap`, the lookup service
	// Postfix asks for list addresses and domains (socketmap_table(5)),
	// listens: a loopback host:port, or an absolute path for a Unix socket.
	// Default 127.0.0.1:10027.
	SocketmapListen string `toml:"socketmap_listen"`
	// MTAListsFile is a world-readable copy of lists.idx (one list address a
	// line) that Cloister rewrites atomically after every list create and
	// delete, for an MTA that reads a file (Exim's lsearch). Its directory
	// must be writable by the cloister user. Empty: none.
	MTAListsFile string `toml:"mta_lists_file"`
	// SMTPAddr is the MTA that the outgoing runner hands mail to. Default 127.0.0.1:25.
	SMTPAddr string `toml:"smtp_addr"`
	// MaxMessageSizeKB is the largest message deliver accepts, in KiB. Default 10240 (10 MiB).
	MaxMessageSizeKB int64 `toml:"max_message_size_kb"`
	// KeyringPassphraseFile is the file holding the passphrase that encrypts the
	// private keys in keyring.db. When empty, $CREDENTIALS_DIRECTORY/keyring-passphrase
	// (a systemd credential) is used. Never put the passphrase itself in this file.
	KeyringPassphraseFile string `toml:"keyring_passphrase_file"`
	// QueueKeyFile is the file holding the key that seals queue entries carrying the
	// plaintext of encrypted posts. When empty, $CREDENTIALS_DIRECTORY/queue-key is used.
	QueueKeyFile string `toml:"queue_key_file"`
	// SMIMECAFile is a PEM file of trust anchors for S/MIME signatures.
	SMIMECAFile string `toml:"smime_cafile"`
	// SMIMECAPath is a directory of PEM trust anchors for S/MIME signatures.
	SMIMECAPath string `toml:"smime_capath"`
	// SMIMECRLDir is a directory of CRLs (PEM or DER) consulted for S/MIME certificates.
	SMIMECRLDir string `toml:"smime_crl_dir"`
	// MetricsListen is the loopback address of the Prometheus endpoint; empty disables it.
	MetricsListen string `toml:"metrics_listen"`
	// APISocket is the Unix socket `cloister api` listens on (mode 0660: the
	// site's group may connect; each request still needs a token). Default
	// STATE_DIR/api.sock.
	APISocket string `toml:"api_socket"`
	// Listmasters are the site administrators' addresses (is_listmaster in scenarios).
	Listmasters []string `toml:"listmasters"`
	// BannedAddresses are site-wide patterns (Go regular expressions matched
	// against the whole lower-cased sender address, so ".*@spam\.example"
	// bans a domain) whose posts every list rejects, in addition to each
	// list's banned_addresses.
	BannedAddresses []string `toml:"banned_addresses"`
	// Keyserver is the base URL of a VKS keyserver (e.g. https://keys.openpgp.org)
	// that `cloister key fetch` asks after the Web Key Directory; empty: none.
	Keyserver string `toml:"keyserver"`
	// ScenarioDir is a directory of site scenario files that add to or override the built-ins.
	ScenarioDir string `toml:"scenario_dir"`
	// MaxAttempts is how many times a runner tries an entry before it goes to the bad queue. Default 3.
	MaxAttempts int `toml:"max_attempts"`
	// RetryGiveUpHours is how long the outgoing runner retries temporary SMTP failures. Default 120.
	RetryGiveUpHours int `toml:"retry_give_up_hours"`
	// ClamdSocket is the ClamAV daemon that scans posts (the virus-scan rule
	// of the posting chain): an absolute path is its Unix socket (Debian:
	// /run/clamav/clamd.ctl), host:port its TCP socket. Empty: no post is
	// scanned. Lists scan when this is set and their virus_scan is yes.
	ClamdSocket string `toml:"clamd_socket"`
	// ClamdTimeoutSeconds bounds one scan (connect, stream, verdict). Default 30.
	ClamdTimeoutSeconds int `toml:"clamd_timeout_seconds"`
	// ClamdMaxScanKB is the largest post streamed to clamd, in KiB; keep it at
	// most clamd's StreamMaxLength. A larger post is not scanned and is held
	// for the moderators (the virus-unscanned rule). Default 10240.
	ClamdMaxScanKB int64 `toml:"clamd_max_scan_kb"`
	// ClamdUnavailable says what happens to a post when clamd cannot be
	// reached, does not answer in time or answers garbage: defer (the post
	// waits in the rules queue and is scanned again every
	// clamd_retry_seconds; it never passes unscanned) or accept (it goes on
	// unscanned, with a warning in the log). Default defer.
	ClamdUnavailable string `toml:"clamd_unavailable"`
	// ClamdRetrySeconds is how long a deferred post waits before it is
	// scanned again. Default 60.
	ClamdRetrySeconds int `toml:"clamd_retry_seconds"`
	// SMTPSessions is how many outgoing entries are handed to the MTA at
	// once, each over its own SMTP session, so that one slow transaction
	// does not hold up every list. Default 4.
	SMTPSessions int `toml:"smtp_sessions"`
	// SMTPChunking makes the outgoing runner send with BDAT (RFC 3030)
	// when the MTA offers CHUNKING. By default it sends with DATA: Postfix
	// 3.7 takes pipelined copies over DATA about five times as fast as over
	// BDAT (bench/fanout-e2e.sh, receiver postfix). Default false.
	SMTPChunking bool `toml:"smtp_chunking"`
	// SMTPTimeoutSeconds bounds connecting to the MTA and each SMTP command,
	// the end of DATA included; a transaction that times out is deferred and
	// retried. It must stay below the systemd watchdog (WatchdogSec=120s).
	// Default 60.
	SMTPTimeoutSeconds int `toml:"smtp_timeout_seconds"`

	// Path is the file the configuration was read from (not a TOML key).
	Path string `toml:"-"`
}

// Defaults for unset keys.
const (
	DefaultSMTPAddr         = "127.0.0.1:25"
	DefaultMaxMessageSizeKB = 10240
	DefaultMaxAttempts      = 3
	DefaultRetryGiveUpHours = 120
	DefaultClamdTimeout     = 30
	DefaultClamdMaxScanKB   = 10240
	DefaultClamdUnavailable = "defer"
	DefaultClamdRetry       = 60
	DefaultSMTPSessions     = 4
	DefaultSocketmapListen  = "127.0.0.1:10027"
	DefaultSMTPTimeout      = 60
	// MaxSMTPTimeout is the longest smtp_timeout_seconds: below the systemd
	// watchdog (120 s), so a silent MTA is given up before the watchdog
	// would kill the runner.
	MaxSMTPTimeout = 100
)

// ErrNotFound means no configuration file was found in any searched place.
var ErrNotFound = errors.New("no cloister.toml found (use --config, $CLOISTER_CONFIG, ./cloister.toml or /etc/cloister/cloister.toml)")

// Find returns the configuration path: explicit, else $CLOISTER_CONFIG, else
// ./cloister.toml, else /etc/cloister/cloister.toml.
func Find(explicit string) (string, error) {
	if explicit != "" {
		return explicit, nil
	}
	if env := os.Getenv("CLOISTER_CONFIG"); env != "" {
		return env, nil
	}
	for _, p := range []string{"cloister.toml", "/etc/cloister/cloister.toml"} {
		if _, err := os.Stat(p); err == nil {
			return p, nil
		}
	}
	return "", ErrNotFound
}

// Load finds, reads and checks the configuration.
func Load(explicit string) (*Config, error) {
	path, err := Find(explicit)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	c.Path = path
	if c.StateDir != "" && !filepath.IsAbs(c.StateDir) {
		abs, err := filepath.Abs(filepath.Join(filepath.Dir(path), c.StateDir))
		if err != nil {
			return nil, fmt.Errorf("config %s: state_dir: %w", path, err)
		}
		c.StateDir = abs
	}
	if err := c.Check(); err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// Parse decodes TOML strictly (unknown keys are errors) and applies defaults.
func Parse(data []byte) (*Config, error) {
	c := &Config{}
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		var strict *toml.StrictMissingError
		if errors.As(err, &strict) {
			return nil, fmt.Errorf("unknown keys:\n%s", strict.String())
		}
		var de *toml.DecodeError
		if errors.As(err, &de) {
			row, col := de.Position()
			return nil, fmt.Errorf("line %d, column %d: %s", row, col, de.Error())
		}
		return nil, err
	}
	c.applyDefaults()
	return c, nil
}

func (c *Config) applyDefaults() {
	if c.SMTPAddr == "" {
		c.SMTPAddr = DefaultSMTPAddr
	}
	if c.MaxMessageSizeKB == 0 {
		c.MaxMessageSizeKB = DefaultMaxMessageSizeKB
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = DefaultMaxAttempts
	}
	if c.RetryGiveUpHours == 0 {
		c.RetryGiveUpHours = DefaultRetryGiveUpHours
	}
	if c.ClamdTimeoutSeconds == 0 {
		c.ClamdTimeoutSeconds = DefaultClamdTimeout
	}
	if c.ClamdMaxScanKB == 0 {
		c.ClamdMaxScanKB = DefaultClamdMaxScanKB
	}
	if c.ClamdUnavailable == "" {
		c.ClamdUnavailable = DefaultClamdUnavailable
	}
	if c.ClamdRetrySeconds == 0 {
		c.ClamdRetrySeconds = DefaultClamdRetry
	}
	if c.SMTPSessions == 0 {
		c.SMTPSessions = DefaultSMTPSessions
	}
	if c.SMTPTimeoutSeconds == 0 {
		c.SMTPTimeoutSeconds = DefaultSMTPTimeout
	}
	if c.SocketmapListen == "" {
		c.SocketmapListen = DefaultSocketmapListen
	}
	c.Domain = strings.ToLower(strings.TrimSpace(c.Domain))
	for i, d := range c.Domains {
		c.Domains[i] = strings.ToLower(strings.TrimSpace(d))
	}
}

// ServedDomains returns domain and every one of domains, without repeats:
// the mail domains lists may be created in.
func (c *Config) ServedDomains() []string {
	out := []string{c.Domain}
	for _, d := range c.Domains {
		if d != "" && !slices.Contains(out, d) {
			out = append(out, d)
		}
	}
	return out
}

// SMTPTimeout returns the bound on connecting to the MTA and on each SMTP
// command.
func (c *Config) SMTPTimeout() time.Duration {
	return time.Duration(c.SMTPTimeoutSeconds) * time.Second
}

// Check validates the configuration and returns every problem at once.
func (c *Config) Check() error {
	var errs []error
	if c.StateDir == "" {
		errs = append(errs, errors.New("state_dir is not set"))
	}
	if c.Domain == "" || strings.ContainsAny(c.Domain, " @/") {
		errs = append(errs, fmt.Errorf("domain %q is not a mail domain", c.Domain))
	}
	for _, d := range c.Domains {
		if d == "" || strings.ContainsAny(d, " @/") {
			errs = append(errs, fmt.Errorf("domains: %q is not a mail domain", d))
		}
	}
	if !filepath.IsAbs(c.SocketmapListen) {
		host, _, err := net.SplitHostPort(c.SocketmapListen)
		if err != nil {
			errs = append(errs, fmt.Errorf("socketmap_listen %q: want a loopback host:port or an absolute socket path: %v", c.SocketmapListen, err))
		} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			errs = append(errs, fmt.Errorf("socketmap_listen %q must be a loopback address or a socket path", c.SocketmapListen))
		}
	}
	if c.MTAListsFile != "" && !filepath.IsAbs(c.MTAListsFile) {
		errs = append(errs, fmt.Errorf("mta_lists_file %q must be an absolute path", c.MTAListsFile))
	}
	if _, _, err := net.SplitHostPort(c.SMTPAddr); err != nil {
		errs = append(errs, fmt.Errorf("smtp_addr %q: %v", c.SMTPAddr, err))
	}
	if c.MaxMessageSizeKB < 0 {
		errs = append(errs, fmt.Errorf("max_message_size_kb %d is negative", c.MaxMessageSizeKB))
	}
	if c.MaxAttempts < 1 {
		errs = append(errs, fmt.Errorf("max_attempts %d must be at least 1", c.MaxAttempts))
	}
	if c.SMTPSessions < 1 || c.SMTPSessions > 64 {
		errs = append(errs, fmt.Errorf("smtp_sessions %d must be between 1 and 64", c.SMTPSessions))
	}
	if c.SMTPTimeoutSeconds < 1 || c.SMTPTimeoutSeconds > MaxSMTPTimeout {
		errs = append(errs, fmt.Errorf("smtp_timeout_seconds %d must be between 1 and %d (below the systemd watchdog)", c.SMTPTimeoutSeconds, MaxSMTPTimeout))
	}
	if c.Keyserver != "" && !strings.HasPrefix(c.Keyserver, "https://") && !strings.HasPrefix(c.Keyserver, "http://127.0.0.1") && !strings.HasPrefix(c.Keyserver, "http://localhost") {
		errs = append(errs, fmt.Errorf("keyserver %q must be an https:// URL", c.Keyserver))
	}
	for _, p := range c.BannedAddresses {
		if _, err := regexp.Compile(p); err != nil {
			errs = append(errs, fmt.Errorf("banned_addresses: %q: %v", p, err))
		}
	}
	if c.MetricsListen != "" {
		host, _, err := net.SplitHostPort(c.MetricsListen)
		if err != nil {
			errs = append(errs, fmt.Errorf("metrics_listen %q: %v", c.MetricsListen, err))
		} else if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
			errs = append(errs, fmt.Errorf("metrics_listen %q must be a loopback address", c.MetricsListen))
		}
	}
	if c.ClamdSocket != "" {
		if _, _, err := clamd.ParseSocket(c.ClamdSocket); err != nil {
			errs = append(errs, fmt.Errorf("clamd_socket: %v", err))
		}
	}
	if c.ClamdTimeoutSeconds < 1 {
		errs = append(errs, fmt.Errorf("clamd_timeout_seconds %d must be at least 1", c.ClamdTimeoutSeconds))
	}
	if c.ClamdMaxScanKB < 1 {
		errs = append(errs, fmt.Errorf("clamd_max_scan_kb %d must be at least 1", c.ClamdMaxScanKB))
	}
	if c.ClamdUnavailable != "defer" && c.ClamdUnavailable != "accept" {
		errs = append(errs, fmt.Errorf("clamd_unavailable %q must be defer or accept", c.ClamdUnavailable))
	}
	if c.ClamdRetrySeconds < 1 {
		errs = append(errs, fmt.Errorf("clamd_retry_seconds %d must be at least 1", c.ClamdRetrySeconds))
	}
	return errors.Join(errs...)
}

// MaxMessageSize returns the site's maximum message size in bytes.
func (c *Config) MaxMessageSize() int64 { return c.MaxMessageSizeKB * 1024 }

// QueueRoot returns the directory holding one directory per queue.
func (c *Config) QueueRoot() string { return filepath.Join(c.StateDir, "queue") }

// ListsDB returns the path of cloister.db.
func (c *Config) ListsDB() string { return filepath.Join(c.StateDir, "cloister.db") }

// KeyringDB returns the path of keyring.db.
func (c *Config) KeyringDB() string { return filepath.Join(c.StateDir, "keyring.db") }

// BounceSecretPath is the file holding the secret that signs VERP bounce
// addresses (0600, made by cloister init or on first use).
func (c *Config) BounceSecretPath() string { return filepath.Join(c.StateDir, "bounce-secret") }

// APISocketPath returns the Unix socket of the API daemon.
func (c *Config) APISocketPath() string {
	if c.APISocket != "" {
		return c.APISocket
	}
	return filepath.Join(c.StateDir, "api.sock")
}

// IndexPath returns the path of lists.idx, the only state deliver reads.
func (c *Config) IndexPath() string { return filepath.Join(c.StateDir, "lists.idx") }

// ListLogDir returns the directory of the lists' own event logs
// (package listlog).
func (c *Config) ListLogDir() string { return filepath.Join(c.StateDir, "log") }

// ArchiveDir returns the archive directory of a list.
func (c *Config) ArchiveDir(list string) string { return filepath.Join(c.StateDir, "archive", list) }

// Sample returns a commented cloister.toml for a new site.
func Sample(stateDir, domain, smtpAddr string) string {
	return fmt.Sprintf(`# Cloister site configuration. Every key is documented in docs/operators.md.
state_dir = %q
domain = %q
smtp_addr = %q
max_message_size_kb = %d
# keyring_passphrase_file = "/etc/cloister/keyring-passphrase"   # or a systemd credential
# queue_key_file = "/etc/cloister/queue-key"                     # or a systemd credential
# smime_cafile = "/etc/ssl/certs/ca-certificates.crt"
# smime_capath = ""
# smime_crl_dir = ""
# metrics_listen = "127.0.0.1:9469"
# api_socket = "/run/cloister/api.sock"                          # default: STATE_DIR/api.sock
# listmasters = ["postmaster@%s"]
# banned_addresses = [".*@spam\\.example"]
# keyserver = "https://keys.openpgp.org"
# scenario_dir = ""
# max_attempts = %d
# retry_give_up_hours = %d
# clamd_socket = "/run/clamav/clamd.ctl"                         # empty: no virus scanning
# clamd_timeout_seconds = %d
# clamd_max_scan_kb = %d
# clamd_unavailable = "%s"                                    # or "accept"
# clamd_retry_seconds = %d
# smtp_sessions = %d
# smtp_chunking = false                                          # true: BDAT where the MTA offers CHUNKING
# smtp_timeout_seconds = %d
# domains = []                                                   # more list domains besides domain
# socketmap_listen = "%s"                            # cloister mta socketmap, for Postfix
# mta_lists_file = "/var/lib/cloister-mta/lists"                 # a list file for Exim, kept current
`, stateDir, domain, smtpAddr, DefaultMaxMessageSizeKB, domain, DefaultMaxAttempts, DefaultRetryGiveUpHours,
		DefaultClamdTimeout, DefaultClamdMaxScanKB, DefaultClamdUnavailable, DefaultClamdRetry, DefaultSMTPSessions, DefaultSMTPTimeout,
		DefaultSocketmapListen)
}
