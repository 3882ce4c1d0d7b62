package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/sitetest"
	"cloister/replay"
)

// TestBackupRestoresIntoNewSite: a site's backup restored into a new site
// (another state directory, made by init, with the old secrets put back as
// docs/operators.md says) keeps what the runners had kept: a post waiting
// for the list's digest goes out in the next digest, a signature seen before
// is still a replay, and the site's and the list's templates still shape
// the notices. init --force over the restored site keeps its configuration.
func TestBackupRestoresIntoNewSite(t *testing.T) {
	dir := t.TempDir()
	sink := sitetest.StartSink(t, filepath.Join(dir, "mail"))
	post := func(s *sitetest.CLISite, from, subject string) {
		t.Helper()
		s.Post("team@lists.test", from, "From: "+from+"\nTo: team@lists.test\nSubject: "+subject+"\nMessage-ID: <"+strings.ReplaceAll(subject, " ", "-")+"@subs.test>\n\n"+subject+" body\n")
	}
	mailbox := func(addr string) string {
		box, err := sink.Mailbox(addr)
		if err != nil {
			t.Fatal(err)
		}
		return string(bytes.Join(box, []byte("\n--next--\n")))
	}

	oldSite := cliSite(t, filepath.Join(dir, "old"), sink.Addr)
	oldRun := oldSite.Run
	oldSite.CreateTeam()
	oldRun("member", "set", "team", "bob@subs.test", "--delivery", "digest")
	old := oldSite.LoadConfig()
	// Templates: the site's rule-chain rejection notice, and one file of the list's own.
	writeFile := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o640); err != nil {
			t.Fatal(err)
		}
	}
	writeFile(filepath.Join(old.StateDir, "templates", "en", "reject.tmpl"), "Subject: Site-made refusal for {{.List}}\n\nSITE-TEMPLATE-BODY {{.Reason}}\n")
	writeFile(filepath.Join(old.StateDir, "templates", "team@lists.test", "en", "held.tmpl"), "Subject: List-made held notice\n\nLIST-TEMPLATE-BODY\n")
	// A post that waits for bob's digest (30 KB or a day: not due).
	post(oldSite, "ann@subs.test", "Before the backup")
	oldRun("runners", "--once")
	if strings.Contains(mailbox("bob@subs.test"), "Before the backup") {
		t.Fatal("the digest went out before the backup: the test proves nothing")
	}
	// A signature the old site counted.
	if prev, err := replay.ForSite(old.StateDir).Check("pgp:seen-before", "e1", "post to team@lists.test", time.Time{}, time.Now()); err != nil || prev != nil {
		t.Fatalf("first check: %v %v", prev, err)
	}
	bk := filepath.Join(dir, "backup")
	oldRun("backup", bk)

	freshSite := cliSite(t, filepath.Join(dir, "new"), sink.Addr)
	newCfg, newRun := freshSite.Config, freshSite.Run
	fresh := freshSite.LoadConfig()
	// The old site's secrets go back in place of the new ones.
	for _, pair := range [][2]string{{old.KeyringPassphraseFile, fresh.KeyringPassphraseFile}, {old.QueueKeyFile, fresh.QueueKeyFile}} {
		b, err := os.ReadFile(pair[0])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(pair[1], b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	newRun("restore", bk)
	// init --force (an operator redoing the set-up) keeps the configuration.
	f, _ := os.OpenFile(newCfg, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString("listmasters = [\"root@lists.test\"]\n")
	f.Close()
	before, _ := os.ReadFile(newCfg)
	if out, err := cli(t, "init", "--force", "--state-dir", fresh.StateDir, "--domain", "lists.test", "--smtp", sink.Addr); err != nil || !strings.Contains(out, "kept") {
		t.Fatalf("init --force over the restored site: %v\n%s", err, out)
	}
	if after, _ := os.ReadFile(newCfg); !bytes.Equal(after, before) {
		t.Fatalf("init --force rewrote cloister.toml:\n%s", after)
	}

	t.Run("the waiting digest post goes out in the next digest", func(t *testing.T) {
		newRun("list", "set", "team", "digest_size_kb", "1")
		post(freshSite, "ann@subs.test", "After the restore "+strings.Repeat("x", 600))
		newRun("runners", "--once")
		box := mailbox("bob@subs.test")
		if !strings.Contains(box, "Before the backup body") || !strings.Contains(box, "After the restore") {
			t.Fatalf("bob's digest lacks the post from before the backup:\n%s", box)
		}
	})
	t.Run("a signature seen before the backup is a replay", func(t *testing.T) {
		prev, err := replay.ForSite(fresh.StateDir).Check("pgp:seen-before", "e2", "post to team@lists.test", time.Time{}, time.Now())
		if err != nil || prev == nil {
			t.Fatalf("after the restore the signature is new again (%v, %v)", prev, err)
		}
	})
	t.Run("the site's and the list's templates are kept", func(t *testing.T) {
		post(freshSite, "mallory@outside.test", "From an outsider")
		newRun("runners", "--once")
		if box := mailbox("mallory@outside.test"); !strings.Contains(box, "Subject: Site-made refusal for team@lists.test") || !strings.Contains(box, "SITE-TEMPLATE-BODY") {
			t.Fatalf("the outsider's notice is not the site's template:\n%s", box)
		}
		if b, err := os.ReadFile(filepath.Join(fresh.StateDir, "templates", "team@lists.test", "en", "held.tmpl")); err != nil || !bytes.Contains(b, []byte("LIST-TEMPLATE-BODY")) {
			t.Fatalf("the list's template: %v %q", err, b)
		}
	})
}
