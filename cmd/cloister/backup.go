package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/spf13/cobra"
	bolt "go.etcd.io/bbolt"

	"cloister/internal/boltfile"
	"cloister/internal/config"
	"cloister/internal/metrics"
	"cloister/internal/safeio"
	"cloister/lists"
	"cloister/queue"
	"cloister/replay"
)

// manifestName is written last into a backup: its presence marks a complete
// one, and it holds the SHA-256 of every file so restore can check them.
const manifestName = "MANIFEST.json"

// manifest describes one backup.
type manifest struct {
	Version int               `json:"version"`
	Created time.Time         `json:"created"`
	Domain  string            `json:"domain"`
	Files   map[string]string `json:"files"` // slash path in the backup -> hex SHA-256
}

// backupQueues is the order queues are copied in: upstream first, so an
// entry handed downstream during the copy is copied twice rather than
// missed (delivery is at least once per stage anyway). retry hands entries
// back to out, so only a backup taken with the runners stopped is exact.
func backupQueues() []string {
	return queue.Dirs()
}

func (a *app) backupCmd() *cobra.Command {
	var noArchive bool
	c := &cobra.Command{
		Use:   "backup DIR",
		Short: "Snapshot the databases, queues, digests, templates and archives into DIR (a new directory)",
		Long: `Write a consistent snapshot of cloister.db, keyring.db and replay.db (each from one
read transaction, under the database's shared lock, so runners keep working),
the queue entries, the posts waiting for each list's digest, the site and
list templates and the archives into DIR, with a MANIFEST.json of SHA-256
sums written last. Runners may keep running: an entry moving between queues
during the copy may be copied twice, never lost. The secrets (keyring
passphrase, queue key) are not copied: back them up separately, or sealed
entries and private keys cannot be opened after a restore. The bounce
secret, which only signs bounce addresses, is copied.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(a.configPath)
			if err != nil {
				return err
			}
			m, err := backup(cfg, args[0], !noArchive)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "backed up %d files to %s\n", len(m.Files), args[0])
			return nil
		},
	}
	c.Flags().BoolVar(&noArchive, "no-archive", false, "leave the archives out")
	return c
}

func (a *app) restoreCmd() *cobra.Command {
	var force bool
	c := &cobra.Command{
		Use:   "restore DIR",
		Short: "Restore a backup made by `cloister backup` into the configured site (runners stopped)",
		Long: `Check every file of the backup against its MANIFEST.json, then put the
databases, queue entries and archives in place in the configured state
directory and rewrite lists.idx. The runners must be stopped. A site that
already has lists or queued entries is refused unless --force.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(a.configPath)
			if err != nil {
				return err
			}
			n, err := restore(cfg, args[0], force)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "restored %d files into %s\n", n, cfg.StateDir)
			return nil
		},
	}
	c.Flags().BoolVar(&force, "force", false, "restore over a site that has lists or queued entries")
	return c
}

// backup writes the snapshot of cfg's site into dir.
func backup(cfg *config.Config, dir string, withArchive bool) (*manifest, error) {
	if ents, err := os.ReadDir(dir); err == nil && len(ents) > 0 {
		return nil, fmt.Errorf("backup dir %s is not empty", dir)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("create backup dir: %w (make its parent writable by this user once, e.g. install -d -o cloister -g cloister -m 0700 %s)", err, filepath.Dir(dir))
		}
		return nil, fmt.Errorf("create backup dir: %w", err)
	}
	m := &manifest{Version: 1, Created: time.Now().UTC(), Domain: cfg.Domain, Files: map[string]string{}}
	// The replay store too: restored without it, a site would take every
	// signature it saw in the last months for new.
	for _, db := range []string{cfg.ListsDB(), cfg.KeyringDB(), replay.Path(cfg.StateDir)} {
		if _, err := os.Stat(db); errors.Is(err, os.ErrNotExist) {
			continue
		}
		name := filepath.Base(db)
		sum, err := snapshotDB(db, filepath.Join(dir, name))
		if err != nil {
			return nil, err
		}
		m.Files[name] = sum
	}
	// The bounce secret protects no content: it goes with the state, so that
	// bounces to addresses signed before a restore still count.
	if sum, err := copyFile(cfg.BounceSecretPath(), filepath.Join(dir, "bounce-secret")); err == nil {
		m.Files["bounce-secret"] = sum
	} else if !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	for _, q := range backupQueues() {
		src := filepath.Join(cfg.QueueRoot(), q)
		ents, err := os.ReadDir(src)
		if err != nil {
			return nil, fmt.Errorf("read queue %s: %w", q, err)
		}
		for _, e := range ents {
			name, ok := queueFileName(e.Name(), true)
			if !ok || !e.Type().IsRegular() {
				continue
			}
			rel := "queue/" + q + "/" + name
			sum, err := copyFile(filepath.Join(src, e.Name()), filepath.Join(dir, filepath.FromSlash(rel)))
			if errors.Is(err, os.ErrNotExist) {
				continue // finished or moved on meanwhile: the next queue has it
			}
			if err != nil {
				return nil, err
			}
			m.Files[rel] = sum
		}
	}
	// The trees of state beside the queues: posts waiting for a list's
	// next digest, site and list templates, and the archives.
	trees := stateTrees
	if withArchive {
		trees = append(append([]string{}, trees...), "archive")
	}
	for _, tree := range trees {
		if err := copyTree(cfg.StateDir, tree, dir, m); err != nil {
			return nil, err
		}
	}
	if cfg.Path != "" {
		if sum, err := copyFile(cfg.Path, filepath.Join(dir, "cloister.toml")); err == nil {
			m.Files["cloister.toml"] = sum
		}
	}
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	err = safeio.WriteFunc(filepath.Join(dir, manifestName), 0o600, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("write manifest: %w", err)
	}
	return m, nil
}

// stateTrees are the directories of the state directory that a backup
// always copies whole (the archives are copied unless --no-archive):
// digest holds each list's posts waiting for its next digest, templates the
// site's and lists' notice templates.
var stateTrees = []string{"digest", "templates"}

// copyTree copies every regular file under stateDir/tree into dir and
// records it in m. A missing tree is no error.
func copyTree(stateDir, tree, dir string, m *manifest) error {
	root := filepath.Join(stateDir, tree)
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.Type().IsRegular() {
			return err
		}
		rel, err := filepath.Rel(stateDir, path)
		if err != nil {
			return err
		}
		sum, err := copyFile(path, filepath.Join(dir, rel))
		if errors.Is(err, os.ErrNotExist) {
			return nil // a digest sent meanwhile took its posts
		}
		if err != nil {
			return err
		}
		m.Files[filepath.ToSlash(rel)] = sum
		return nil
	})
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("copy %s: %w", tree, err)
	}
	return nil
}

// queueFileName says whether a file of a queue directory belongs in a
// backup, and under what name: entries (a claimed .bak is saved as the .msg
// it was, so a restore does not count an attempt) and outgoing progress
// journals. Temp files are left out.
func queueFileName(name string, renameClaimed bool) (string, bool) {
	switch {
	case strings.HasPrefix(name, ".progress-") && !strings.ContainsAny(name, "/\\"):
		return name, true
	case strings.HasPrefix(name, "."):
		return "", false
	case strings.HasSuffix(name, ".msg"):
		return name, true
	case renameClaimed && strings.HasSuffix(name, ".bak"):
		return strings.TrimSuffix(name, ".bak") + ".msg", true
	}
	return "", false
}

// snapshotDB writes one read transaction of the bbolt file at src into dst.
func snapshotDB(src, dst string) (string, error) {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", dst, err)
	}
	defer f.Close()
	h := sha256.New()
	err = boltfile.File{Path: src}.View(func(tx *bolt.Tx) error {
		_, err := tx.WriteTo(io.MultiWriter(f, h))
		return err
	})
	if err != nil {
		return "", fmt.Errorf("snapshot %s: %w", src, err)
	}
	if err := f.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", dst, err)
	}
	return hex.EncodeToString(h.Sum(nil)), f.Close()
}

// copyFile copies src to a new file dst (mode 0600), creating its directory,
// and returns the SHA-256 of what it wrote.
func copyFile(src, dst string) (string, error) {
	in, err := os.Open(src)
	if err != nil {
		return "", err
	}
	defer in.Close()
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return "", fmt.Errorf("create %s: %w", filepath.Dir(dst), err)
	}
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return "", fmt.Errorf("create %s: %w", dst, err)
	}
	defer out.Close()
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(out, h), in); err != nil {
		return "", fmt.Errorf("copy %s: %w", src, err)
	}
	if err := out.Sync(); err != nil {
		return "", fmt.Errorf("sync %s: %w", dst, err)
	}
	return hex.EncodeToString(h.Sum(nil)), out.Close()
}

// readManifest reads a backup's manifest and checks every file against it.
func readManifest(dir string) (*manifest, error) {
	b, err := os.ReadFile(filepath.Join(dir, manifestName))
	if err != nil {
		return nil, fmt.Errorf("not a complete backup: %w", err)
	}
	var m manifest
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, fmt.Errorf("backup manifest: %w", err)
	}
	if m.Version != 1 {
		return nil, fmt.Errorf("backup manifest version %d: this cloister reads version 1", m.Version)
	}
	for rel, want := range m.Files {
		if !fs.ValidPath(rel) {
			return nil, fmt.Errorf("backup manifest names a bad path %q", rel)
		}
		f, err := os.Open(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			return nil, fmt.Errorf("backup file: %w", err)
		}
		h := sha256.New()
		_, err = io.Copy(h, f)
		f.Close()
		if err != nil {
			return nil, fmt.Errorf("read backup file %s: %w", rel, err)
		}
		if got := hex.EncodeToString(h.Sum(nil)); got != want {
			return nil, fmt.Errorf("backup file %s is damaged (SHA-256 %s, manifest says %s)", rel, got, want)
		}
	}
	return &m, nil
}

// siteInUse says why a restore over the site would lose something: a
// runner alive, lists in the database, entries in the queues.
func siteInUse(cfg *config.Config) error {
	beats, err := metrics.ReadBeats(cfg.StateDir)
	if err != nil {
		return err
	}
	for _, b := range beats {
		if b.State(time.Now(), metrics.MaxTickAge) != metrics.StateGone {
			return fmt.Errorf("runner %s (pid %d) is running: stop the runners first", b.Runner, b.PID)
		}
	}
	if _, err := os.Stat(cfg.ListsDB()); err == nil {
		st, err := lists.Open(cfg.ListsDB())
		if err != nil {
			return err
		}
		var n int
		if err := st.View(func(tx *lists.Tx) error {
			all, err := tx.Lists()
			n = len(all)
			return err
		}); err != nil {
			return err
		}
		if n > 0 {
			return fmt.Errorf("the site already has %d lists (use --force to restore over it)", n)
		}
	}
	for _, q := range backupQueues() {
		ents, _ := os.ReadDir(filepath.Join(cfg.QueueRoot(), q))
		for _, e := range ents {
			if _, ok := queueFileName(e.Name(), true); ok {
				return fmt.Errorf("queue %s has entries (use --force to restore over them)", q)
			}
		}
	}
	return nil
}

// restore puts a backup in place in cfg's state directory and returns how
// many files it wrote.
func restore(cfg *config.Config, dir string, force bool) (int, error) {
	m, err := readManifest(dir)
	if err != nil {
		return 0, err
	}
	if err := siteInUse(cfg); err != nil {
		if !force || strings.Contains(err.Error(), "is running") {
			return 0, fmt.Errorf("restore refused: %w", err)
		}
	}
	if err := os.MkdirAll(cfg.StateDir, 0o700); err != nil {
		return 0, fmt.Errorf("create state dir: %w", err)
	}
	rels := make([]string, 0, len(m.Files))
	for rel := range m.Files {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	n := 0
	for _, rel := range rels {
		src := filepath.Join(dir, filepath.FromSlash(rel))
		var dst string
		switch parts := strings.Split(rel, "/"); {
		case rel == "cloister.db" || rel == "keyring.db" || rel == replay.FileName:
			dst = filepath.Join(cfg.StateDir, rel)
			if err := replaceDB(src, dst); err != nil {
				return n, err
			}
			n++
			continue
		case parts[0] == "queue" && len(parts) == 3 && validQueue(parts[1]):
			if _, ok := queueFileName(parts[2], false); !ok {
				return n, fmt.Errorf("backup holds an unexpected queue file %s", rel)
			}
			dst = filepath.Join(cfg.QueueRoot(), parts[1], parts[2])
		case parts[0] == "archive" || slices.Contains(stateTrees, parts[0]):
			dst = filepath.Join(cfg.StateDir, filepath.FromSlash(rel))
		case rel == "bounce-secret":
			dst = cfg.BounceSecretPath()
		case rel == "cloister.toml":
			continue // for reference: the running configuration stays
		default:
			return n, fmt.Errorf("backup holds an unexpected file %s", rel)
		}
		if err := installFile(src, dst); err != nil {
			return n, err
		}
		n++
	}
	st, err := lists.Open(cfg.ListsDB())
	if err != nil {
		return n, err
	}
	var copies []string
	if cfg.MTAListsFile != "" {
		copies = []string{cfg.MTAListsFile}
	}
	if err := st.WriteIndex(cfg.IndexPath(), copies...); err != nil {
		return n, fmt.Errorf("rewrite lists.idx: %w", err)
	}
	return n, nil
}

func validQueue(name string) bool {
	for _, q := range backupQueues() {
		if q == name {
			return true
		}
	}
	return false
}

// installFile copies src to dst durably (safeio), so a reader of the
// directory (a runner started too early) never sees half a file.
func installFile(src, dst string) error {
	if err := os.MkdirAll(filepath.Dir(dst), 0o750); err != nil {
		return fmt.Errorf("create %s: %w", filepath.Dir(dst), err)
	}
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	err = safeio.WriteFunc(dst, 0o600, func(w io.Writer) error {
		if _, err := io.Copy(w, in); err != nil {
			return fmt.Errorf("copy %s: %w", src, err)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("install %s: %w", dst, err)
	}
	return nil
}

// replaceDB installs a database file under its exclusive lock, so no
// process has the old one open while it is replaced.
func replaceDB(src, dst string) error {
	lock, err := boltfile.Lock(boltfile.LockPath(dst), true, boltfile.DefaultTimeout)
	if err != nil {
		return err
	}
	defer lock.Close()
	if err := installFile(src, dst); err != nil {
		return err
	}
	// The keyring's readers cache a snapshot until its generation file
	// changes: give it a new token so none keeps serving the old keys.
	gen := dst + ".gen"
	if _, err := os.Stat(gen); err == nil {
		tok := make([]byte, 16)
		if _, err := rand.Read(tok); err != nil {
			return err
		}
		if err := os.WriteFile(gen, []byte(hex.EncodeToString(tok)), 0o600); err != nil {
			return fmt.Errorf("write %s: %w", gen, err)
		}
	}
	return nil
}
