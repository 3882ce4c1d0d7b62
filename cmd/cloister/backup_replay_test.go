package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/replay"
)

// TestBackupKeepsReplayStore: the site's replay store is backed up and
// restored, so a signature counted before the disk was lost is still a
// replay after the restore.
func TestBackupKeepsReplayStore(t *testing.T) {
	cfgPath := newSite(t)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	store := replay.ForSite(cfg.StateDir)
	now := time.Now()
	if prev, err := store.Check("pgp:counted", "e1", "post to team@lists.test", time.Time{}, now); err != nil || prev != nil {
		t.Fatalf("first check: %v %v", prev, err)
	}
	bk := filepath.Join(t.TempDir(), "backup")
	if out, err := cli(t, "--config", cfgPath, "backup", bk); err != nil {
		t.Fatalf("backup: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(bk, replay.FileName)); err != nil {
		t.Fatalf("backup lacks the replay store: %v", err)
	}
	if err := os.Remove(replay.Path(cfg.StateDir)); err != nil {
		t.Fatal(err)
	}
	if out, err := cli(t, "--config", cfgPath, "restore", "--force", bk); err != nil {
		t.Fatalf("restore: %v\n%s", err, out)
	}
	if prev, err := store.Check("pgp:counted", "e2", "command to team-request@lists.test", time.Time{}, now); err != nil || prev == nil {
		t.Fatalf("after restore the counted signature is new again (%v, %v)", prev, err)
	}
}
