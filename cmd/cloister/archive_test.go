package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/archive"
	"cloister/internal/config"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/queue"
)

// TestArchiveCLI: an encrypted archive is listed, shown and exported in
// clear with the keyring passphrase, and not without it.
func TestArchiveCLI(t *testing.T) {
	testdirs.Slow(t, "generates an archive key per list (RSA) through the CLI")
	cfgPath := keySite(t)
	run := func(args ...string) (string, error) {
		t.Helper()
		return cli(t, append([]string{"--config", cfgPath}, args...)...)
	}
	must := func(args ...string) string {
		t.Helper()
		out, err := run(args...)
		if err != nil {
			t.Fatalf("cloister %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	must("list", "create", "team")
	if out := must("archive", "key", "team"); !strings.Contains(out, "archive key") || !strings.Contains(out, "made") {
		t.Fatalf("archive key: %q", out)
	}
	if out := must("archive", "key", "team"); strings.Contains(out, "made") {
		t.Fatalf("second archive key: %q", out)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	k, err := keyring.Open(cfg.KeyringDB(), nil, nil) // the public key needs no passphrase
	if err != nil {
		t.Fatal(err)
	}
	pub, err := k.ArchiveKey("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	const marker = "CLI-ARCHIVE-SECRET"
	st := &archive.Store{Dir: cfg.ArchiveDir("team@lists.test")}
	post := "From: bob@subs.test\nSubject: Vault\nDate: Mon, 2 Nov 2026 10:00:00 +0000\n\n" + marker + "\nFrom the start\n"
	if _, err := st.Append(queue.NewID(time.Now(), "00112233445566778899aabbccddeeff"), []byte(post), pub, time.Now()); err != nil {
		t.Fatal(err)
	}
	if out := must("archive", "ls", "team"); !strings.Contains(out, "bob@subs.test") || !strings.Contains(out, "Vault") {
		t.Fatalf("ls: %q", out)
	}
	if out := must("archive", "show", "team", "1"); out != post {
		t.Fatalf("show: %q", out)
	}
	if out := must("archive", "export", "team", "--mbox", "-"); !strings.HasPrefix(out, "From bob@subs.test ") || !strings.Contains(out, marker+"\n>From the start\n") {
		t.Fatalf("mbox: %q", out)
	}
	dir := filepath.Join(t.TempDir(), "md")
	if out := must("archive", "export", "team", "--maildir", dir); !strings.Contains(out, "1 messages exported") {
		t.Fatalf("maildir: %q", out)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "new", "*"))
	if len(files) != 1 {
		t.Fatalf("maildir files %v", files)
	}
	if b, _ := os.ReadFile(files[0]); string(b) != post {
		t.Fatalf("maildir copy %q", b)
	}
	wrong := filepath.Join(t.TempDir(), "wrong")
	os.WriteFile(wrong, []byte("not the passphrase\n"), 0o600)
	out, err := run("archive", "export", "team", "--mbox", "-", "--passphrase-file", wrong)
	if err == nil || strings.Contains(out, marker) || !strings.Contains(err.Error(), "passphrase") {
		t.Fatalf("export with a wrong passphrase: %v\n%s", err, out)
	}
	out, err = run("archive", "show", "team", "1", "--passphrase-file", wrong)
	if err == nil || strings.Contains(out, marker) {
		t.Fatalf("show with a wrong passphrase: %v\n%s", err, out)
	}
	if _, err := run("archive", "export", "team"); err == nil {
		t.Fatal("export without --mbox or --maildir accepted")
	}
	if out := must("archive", "expire"); !strings.Contains(out, "0 archived messages removed") {
		t.Fatalf("expire: %q", out)
	}
}
