// Package site bundles what every runner and CLI command works with: the
// configuration, the list store, the queues and the logger. It is passed
// explicitly (no globals), so tests can run several sites at once.
package site

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"cloister/internal/config"
	"cloister/internal/listlog"
	"cloister/internal/stats"
	"cloister/keyring"
	"cloister/lists"
	"cloister/queue"
)

// Site is one Cloister installation.
type Site struct {
	Config *config.Config
	Lists  *lists.Store
	Log    *slog.Logger
	// Keys is the keyring; nil until one is opened (plaintext-only sites).
	Keys Keys
	// Keyring is the keyring behind Keys when they are one (SetKeyring):
	// what only a keyring does goes through it (key expiry notices and
	// trust reloads, storing fetched keys, keeping signature checks, the
	// key changes of the CLI and the service). Nil for a site without a
	// keyring and for tests' in-memory Keys: those features are then off.
	Keyring *keyring.Keyring
	// ArchiveKeys holds the lists' archive keys; nil: encrypted archives
	// can be neither written nor read.
	ArchiveKeys ArchiveKeys
	// KeyStore is where the email key commands change subscriber keys when
	// they are not the keyring's (tests); nil: the keyring's, if any.
	KeyStore KeyStore
	// FetchKey fetches an outsider's OpenPGP key over the network for
	// resend orders (lists with resend_fetch_keys). Nil means a
	// keyring.Fetcher built from Config: WKD, then Config.Keyserver if set.
	// Tests point it at a local server.
	FetchKey func(ctx context.Context, address string) (*keyring.Fetched, error)

	queues map[string]*queue.Queue
	qk     queueKey
	bs     bounceSecret
}

// Open opens the state of the configured site, creating its directories,
// databases and list index when missing.
func Open(cfg *config.Config, log *slog.Logger) (*Site, error) {
	if log == nil {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	if err := os.MkdirAll(cfg.StateDir, 0o750); err != nil {
		return nil, fmt.Errorf("create state dir %s: %w", cfg.StateDir, err)
	}
	// Decisions about a list are also kept in its own log, for its owners,
	// and counted for the metrics.
	log = slog.New(stats.CountDecisions(listlog.New(log.Handler(), cfg.ListLogDir())))
	s := &Site{Config: cfg, Log: log, queues: map[string]*queue.Queue{}}
	for _, name := range queue.Dirs() {
		q, err := queue.Open(cfg.QueueRoot(), name)
		if err != nil {
			return nil, err
		}
		s.queues[name] = q
	}
	st, err := lists.Open(cfg.ListsDB())
	if err != nil {
		return nil, err
	}
	st.IndexPath = cfg.IndexPath()
	st.Domains = cfg.ServedDomains()
	if cfg.MTAListsFile != "" {
		st.IndexCopies = []string{cfg.MTAListsFile}
	}
	s.Lists = st
	missing := false
	for _, p := range append([]string{cfg.IndexPath()}, st.IndexCopies...) {
		if _, err := os.Stat(p); os.IsNotExist(err) {
			missing = true
		}
	}
	if missing {
		if err := st.WriteIndex(cfg.IndexPath(), st.IndexCopies...); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(filepath.Join(cfg.StateDir, "archive"), 0o750); err != nil {
		return nil, fmt.Errorf("create archive dir: %w", err)
	}
	return s, nil
}

// Queue returns the named queue; the names are those of package queue.
func (s *Site) Queue(name string) *queue.Queue {
	q, ok := s.queues[name]
	if !ok {
		panic("unknown queue " + name)
	}
	return q
}
