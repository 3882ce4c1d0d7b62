package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/sitetest"
	"cloister/queue"
)

// TestBackupRestoreProcessesQueuedPost queues a post, backs the site up,
// loses the state, restores it and runs the runners: the post reaches the
// members, and the restored site has its list back.
func TestBackupRestoreProcessesQueuedPost(t *testing.T) {
	dir := t.TempDir()
	sink := sitetest.StartSink(t, filepath.Join(dir, "mail"))
	state := filepath.Join(dir, "state")
	s := cliSite(t, state, sink.Addr)
	cfgPath, run := s.Config, s.Run
	s.CreateTeam()
	cfg := s.LoadConfig()
	s.Post("team@lists.test", "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: Restored\nMessage-ID: <restored@subs.test>\n\nRESTORE-MARKER\n")

	bk := filepath.Join(dir, "backup")
	run("backup", bk)
	for _, f := range []string{manifestName, "cloister.db", "cloister.toml", "bounce-secret"} {
		if _, err := os.Stat(filepath.Join(bk, f)); err != nil {
			t.Errorf("backup lacks %s: %v", f, err)
		}
	}
	if out, err := cli(t, "--config", cfgPath, "backup", bk); err == nil {
		t.Errorf("backup into a non-empty dir succeeded:\n%s", out)
	}
	// A restore over the live site is refused.
	if out, err := cli(t, "--config", cfgPath, "restore", bk); err == nil || !strings.Contains(err.Error(), "lists") {
		t.Errorf("restore over a site with lists: %v\n%s", err, out)
	}

	for _, f := range []string{"keyring.db"} {
		if _, err := os.Stat(filepath.Join(bk, f)); err != nil {
			t.Errorf("backup lacks %s: %v", f, err)
		}
	}
	genBefore, err := os.ReadFile(cfg.KeyringDB() + ".gen")
	if err != nil {
		t.Fatalf("the keyring has no generation file: %v", err)
	}

	// The disk is lost: only the config, the secrets and (to check that
	// readers are told) the keyring's files survive.
	secretBefore, err := os.ReadFile(cfg.BounceSecretPath())
	if err != nil {
		t.Fatalf("init made no bounce secret: %v", err)
	}
	for _, p := range []string{"cloister.db", "cloister.db.lock", "queue", "archive", "lists.idx", "bounce-secret"} {
		if err := os.RemoveAll(filepath.Join(state, p)); err != nil {
			t.Fatal(err)
		}
	}
	run("restore", bk)
	if genAfter, _ := os.ReadFile(cfg.KeyringDB() + ".gen"); bytes.Equal(genAfter, genBefore) {
		t.Errorf("restore left the keyring's generation token as it was")
	}
	if got, err := os.ReadFile(cfg.BounceSecretPath()); err != nil || !bytes.Equal(got, secretBefore) || mode(t, cfg.BounceSecretPath()) != 0o600 {
		t.Errorf("bounce secret after restore: %v (same: %v)", err, bytes.Equal(got, secretBefore))
	}
	if got, _ := os.ReadFile(cfg.IndexPath()); !strings.Contains(string(got), "team@lists.test") {
		t.Errorf("lists.idx after restore: %q", got)
	}
	run("runners", "--once")
	box, err := sink.Mailbox("bob@subs.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(box) != 1 || !bytes.Contains(box[0], []byte("RESTORE-MARKER")) {
		t.Fatalf("bob received %d messages after restore: %q", len(box), box)
	}
	var st status
	if err := json.Unmarshal([]byte(run("status", "--json")), &st); err != nil {
		t.Fatal(err)
	}
	for _, q := range st.Queues {
		if q.Name == queue.Bad && q.Pending != 0 {
			t.Errorf("%d entries in bad after restore", q.Pending)
		}
	}
}

// TestRestoreRefusesDamagedBackup flips a byte of a backed-up file.
func TestRestoreRefusesDamagedBackup(t *testing.T) {
	cfgPath := newSite(t)
	if out, err := cli(t, "--config", cfgPath, "list", "create", "team", "--owner", "ann@subs.test"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	tests := []struct {
		name, want string
		damage     func(t *testing.T, bk string)
	}{
		{"flipped byte", "damaged", func(t *testing.T, bk string) {
			p := filepath.Join(bk, "cloister.db")
			b, _ := os.ReadFile(p)
			b[len(b)/2] ^= 0xff
			os.WriteFile(p, b, 0o600)
		}},
		{"path outside the backup", "bad path", func(t *testing.T, bk string) {
			m, _ := os.ReadFile(filepath.Join(bk, manifestName))
			m = bytes.Replace(m, []byte(`"cloister.toml"`), []byte(`"../cloister.toml"`), 1)
			os.WriteFile(filepath.Join(bk, manifestName), m, 0o600)
		}},
		{"no manifest", "not a complete backup", func(t *testing.T, bk string) {
			os.Remove(filepath.Join(bk, manifestName))
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bk := filepath.Join(t.TempDir(), "bk")
			if out, err := cli(t, "--config", cfgPath, "backup", bk); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			tt.damage(t, bk)
			_, err := cli(t, "--config", cfgPath, "restore", "--force", bk)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("restore of a damaged backup: %v, want %q", err, tt.want)
			}
		})
	}
}

func TestQueueFileName(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"1700000000000000000+ab.msg", "1700000000000000000+ab.msg", true},
		{"1700000000000000000+ab.bak", "1700000000000000000+ab.msg", true},
		{".progress-1700+ab", ".progress-1700+ab", true},
		{".tmp-123-456", "", false},
		{"README", "", false},
	}
	for _, tt := range tests {
		got, ok := queueFileName(tt.in, true)
		if got != tt.want || ok != tt.ok {
			t.Errorf("queueFileName(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}
