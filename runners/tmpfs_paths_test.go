package runners

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/lists"
	"cloister/moderation"
	"cloister/queue"
)

// smallDisk is a tmpfs mounted on a site's state directory (the queues,
// cloister.db, replay.db, the archive and the progress journals), which the
// test fills until writes fail with ENOSPC and frees again.
type smallDisk struct {
	t      *testing.T
	root   string
	filler string
}

// tmpfsSite makes a test site whose whole state directory is a fresh 8 MB
// tmpfs. It fails (never skips) when the file system cannot be mounted.
func tmpfsSite(t *testing.T) (*testSite, *smallDisk) {
	t.Helper()
	testdirs.Slow(t, "needs root: mounts a tmpfs")
	d := &smallDisk{t: t}
	s := newTestSiteWith(t, func(state string) {
		if err := os.MkdirAll(state, 0o750); err != nil {
			t.Fatal(err)
		}
		if out, err := runCmd("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", state); err != nil {
			t.Fatalf("mount a tmpfs on %s (the test needs root: run it through make test): %v %s", state, err, out)
		}
		t.Cleanup(func() { runCmd("umount", "-l", state) })
		d.root = state
	})
	d.filler = filepath.Join(d.root, "filler")
	return s, d
}

// fill writes a file until the tmpfs is full.
func (d *smallDisk) fill() {
	d.t.Helper()
	f, err := os.Create(d.filler)
	if err != nil {
		d.t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				d.t.Fatal(err)
			}
			return
		}
	}
}

// free removes the filler.
func (d *smallDisk) free() {
	d.t.Helper()
	if err := os.Remove(d.filler); err != nil {
		d.t.Fatal(err)
	}
}

// halfWritten lists what a failed write could have left anywhere in the
// state directory: temp files, spool files, staged outputs and ledgers.
func (d *smallDisk) halfWritten() []string {
	var left []string
	filepath.WalkDir(d.root, func(p string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() {
			return nil
		}
		n := e.Name()
		for _, prefix := range []string{".tmp-", ".spool-", ".staged-", ".commit-"} {
			if strings.HasPrefix(n, prefix) {
				rel, _ := filepath.Rel(d.root, p)
				left = append(left, rel)
			}
		}
		return nil
	})
	return left
}

// runOnce drains one runner's queue.
func (s *testSite) runOnce(t *testing.T, r Runner) {
	t.Helper()
	if err := (&Loop{Site: s.Site, Runner: r, Slice: queue.All, Once: true}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestTmpfsFullEachWritePath fills a real tmpfs under the whole state
// directory just before the write path under test (the list store's
// cloister.db, the archive, the progress journal), lets the runners meet
// ENOSPC there, then frees the space: every runner resumes by itself (no
// restart), the post ends where it should exactly once, and no write is left
// half-done.
func TestTmpfsFullEachWritePath(t *testing.T) {
	tests := []struct {
		path   string
		signed bool     // the post is ann's PGP/MIME-signed post (keySite)
		before []Runner // run with space left
		setup  func(t *testing.T, s *testSite)
		logs   string // what the waiting runner logs: the write path's error
		check  func(t *testing.T, s *testSite)
	}{
		{
			path:   "cloister.db (holding a post)",
			before: []Runner{Incoming{}},
			// Many moderators make the hold's transaction (two tokens each)
			// larger than the pages bbolt has free, so it must grow the file.
			setup: func(t *testing.T, s *testSite) {
				setSetting(t, s, "send", "send.editorkey")
				addModerators(t, s, moderators)
			},
			logs: "record held post",
			check: func(t *testing.T, s *testSite) {
				if h := heldPosts(t, s); len(h) != 1 {
					t.Fatalf("held records: %+v", h)
				}
				for i := 0; i < moderators; i++ {
					if n := len(s.mailbox(t, moderator(i))); n != 1 {
						t.Fatalf("%s got %d notices", moderator(i), n)
					}
				}
				if err := moderation.Approve(s.Site, heldPosts(t, s)[0].ID, "moderator"); err != nil {
					t.Fatal(err)
				}
				s.drain(t)
				for _, rcpt := range []string{"bob@subs.test", "cat@subs.test"} {
					if n := countMail(t, s, rcpt, "\nSubject: [team] Minutes\n"); n != 1 {
						t.Errorf("%s got the post %d times", rcpt, n)
					}
				}
			},
		},
		{
			// The replay store is created by the first signed post: on a
			// full disk even its creation fails.
			path:   "replay.db (a signed post)",
			signed: true,
			before: []Runner{Incoming{}},
			setup:  func(t *testing.T, s *testSite) { s.setList(t, map[string]string{"pgp_post_encrypt": "no"}) },
			logs:   "replay",
			check: func(t *testing.T, s *testSite) {
				for _, rcpt := range []string{"bob@subs.test", "cat@subs.test"} {
					if n := countMail(t, s, rcpt, "Minutes: cat asked"); n != 1 {
						t.Errorf("%s got the signed post %d times; bad %q", rcpt, n, s.badReasons(t))
					}
				}
				for _, m := range s.mailbox(t, "ann@subs.test") {
					if strings.Contains(string(m), "received before") {
						t.Fatalf("the post waited out was taken for a replay:\n%s", m)
					}
				}
			},
		},
		{
			path:   "archive",
			before: []Runner{Incoming{}, Rules{}, Pipeline{}, Outgoing{}},
			logs:   "archive",
			check: func(t *testing.T, s *testSite) {
				n := 0
				filepath.WalkDir(filepath.Join(s.Config.StateDir, "archive"), func(p string, e fs.DirEntry, err error) error {
					if err == nil && !e.IsDir() && strings.HasSuffix(p, ".cloister") {
						n++
					}
					return nil
				})
				if n != 1 {
					t.Errorf("the archive holds %d posts, want 1", n)
				}
				s.deliveredOnce(t)
			},
		},
		{
			path:   "progress journal",
			before: []Runner{Incoming{}, Rules{}, Pipeline{}, Archive{}},
			logs:   "progress journal cannot be written",
			check:  func(t *testing.T, s *testSite) { s.deliveredOnce(t) },
		},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			s, disk := tmpfsSite(t)
			msg, sender := post, "bob@subs.test"
			if tt.signed {
				var homes map[string]*gnupg.Home
				s, homes, _ = keySiteOn(t, s)
				msg, sender = replayColumns[0].mail(homes["ann@subs.test"]), "ann@subs.test"
			}
			if tt.setup != nil {
				tt.setup(t, s)
			}
			s.deliver(t, queue.SubPost, sender, msg)
			for _, r := range tt.before {
				s.runOnce(t, r)
			}
			disk.fill()
			before := Waits.Load()
			var stops []func() error
			var returned []func() bool
			for _, r := range []Runner{Incoming{}, Rules{}, Pipeline{}, Archive{}, Outgoing{}, Retry{}} {
				stop, ret := startLoop(t, s, r, nil)
				stops, returned = append(stops, stop), append(returned, ret)
			}
			eventually(t, "a wait on the full tmpfs in "+tt.path, func() bool {
				return Waits.Load()-before > 3 && strings.Contains(s.logs.String(), tt.logs)
			})
			for _, ret := range returned {
				if ret() {
					t.Fatal("a runner stopped on the full tmpfs")
				}
			}
			if r := s.badReasons(t); len(r) != 0 {
				t.Fatalf("bad = %q while the disk was full", r)
			}
			disk.free()
			eventually(t, "every queue empty", func() bool {
				for _, q := range queue.Names {
					if len(s.files(t, q)) != 0 {
						return false
					}
				}
				return true
			})
			for _, stop := range stops {
				if err := stop(); err != nil {
					t.Fatal(err)
				}
			}
			if left := disk.halfWritten(); len(left) != 0 {
				t.Errorf("half-written files left: %v", left)
			}
			tt.check(t, s)
		})
	}
}

const moderators = 150

func moderator(i int) string { return fmt.Sprintf("mod%03d@subs.test", i) }

// addModerators adds n moderators (not members) to the list.
func addModerators(t *testing.T, s *testSite, n int) {
	t.Helper()
	err := s.Lists.Update(func(tx *lists.Tx) error {
		for i := 0; i < n; i++ {
			if err := tx.AddMember("team@lists.test", &lists.Member{Address: moderator(i), Roles: []lists.Role{lists.RoleModerator}}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTmpfsFullKeyring fills a real tmpfs holding keyring.db and writes list
// keys until the database must grow: the write fails with a temporary error
// (which the runner loop waits out), the keyring still opens with every key
// written before and none half-written, and once space returns the same write
// succeeds.
func TestTmpfsFullKeyring(t *testing.T) {
	_, disk := tmpfsSite(t)
	path := filepath.Join(disk.root, "keyring.db")
	k, err := keyring.Open(path, []byte("test passphrase"), nil)
	if err != nil {
		t.Fatal(err)
	}
	disk.fill()
	written := 0
	var failed error
	for i := 0; i < 200 && failed == nil; i++ {
		if _, err := k.GenerateOpenPGP(fmt.Sprintf("list%03d@lists.test", i), "list", keyring.AlgoCurve25519); err != nil {
			failed = err
			break
		}
		written++
	}
	if failed == nil {
		t.Fatalf("%d list keys written on a full tmpfs without an error", written)
	}
	t.Logf("%d list keys written before ENOSPC: %v", written, failed)
	if !Temporary(failed) || !errors.Is(failed, syscall.ENOSPC) {
		t.Fatalf("write on a full disk: %v (temporary %v), want a temporary ENOSPC", failed, Temporary(failed))
	}
	k.Close()
	k, err = keyring.Open(path, []byte("test passphrase"), nil)
	if err != nil {
		t.Fatalf("reopen the keyring after ENOSPC: %v", err)
	}
	defer k.Close()
	for i := 0; i < written; i++ {
		if _, err := k.ListKeyPGP(fmt.Sprintf("list%03d@lists.test", i)); err != nil {
			t.Fatalf("key %d written before the disk filled: %v", i, err)
		}
	}
	if _, err := k.ListKeyPGP(fmt.Sprintf("list%03d@lists.test", written)); err == nil {
		t.Fatal("the failed write left a key behind")
	}
	disk.free()
	if _, err := k.GenerateOpenPGP(fmt.Sprintf("list%03d@lists.test", written), "list", keyring.AlgoCurve25519); err != nil {
		t.Fatalf("the same write once space returned: %v", err)
	}
	if _, err := k.ListKeyPGP(fmt.Sprintf("list%03d@lists.test", written)); err != nil {
		t.Fatal(err)
	}
}
