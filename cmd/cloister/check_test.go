package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/sitetest"
)

// withMTA points a site's smtp_addr at an in-process SMTP sink, so that
// check finds its MTA.
func withMTA(t *testing.T, cfg string) {
	t.Helper()
	setSMTP(t, cfg, sitetest.StartSink(t, filepath.Join(t.TempDir(), "mail")).Addr)
}

// setSMTP rewrites the smtp_addr line of a site's cloister.toml.
func setSMTP(t *testing.T, cfg, addr string) {
	t.Helper()
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(l, "smtp_addr") {
			l = `smtp_addr = "` + addr + `"`
		}
		lines = append(lines, l)
	}
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestCheckReportsEverything: a site with a problem of every class (a
// world-readable queue key and bounce secret, an unreadable passphrase
// file, a CA file without certificates, an MTA that is down, a stale
// Postfix map and Exim lists file) gets them all in one run, each on its
// own line; a sound site passes and check says what it checked.
func TestCheckReportsEverything(t *testing.T) {
	cfg := keySite(t)
	state := filepath.Dir(cfg)
	withMTA(t, cfg)
	postfix, exim := t.TempDir(), filepath.Join(t.TempDir(), "cloister_lists")
	if out, err := cli(t, "--config", cfg, "list", "create", "team"); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	// The maps as cloister aliases prints them, postmapped.
	recipients := "team@lists.test OK\nteam-bounces@lists.test OK\nteam-confirm@lists.test OK\nteam-join@lists.test OK\nteam-leave@lists.test OK\nteam-owner@lists.test OK\nteam-request@lists.test OK\nteam-sendkey@lists.test OK\n"
	os.WriteFile(filepath.Join(postfix, "cloister_recipients"), []byte("# comment\n"+recipients), 0o644)
	os.WriteFile(filepath.Join(postfix, "cloister_recipients.db"), []byte("db"), 0o644)
	mapTime := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	os.Chtimes(filepath.Join(postfix, "cloister_recipients"), mapTime, mapTime)
	os.Chtimes(filepath.Join(postfix, "cloister_recipients.db"), mapTime.Add(time.Second), mapTime.Add(time.Second))
	os.WriteFile(filepath.Join(postfix, "cloister_transport"), []byte("lists.test cloister:\n"), 0o644)
	os.WriteFile(exim, []byte("team@lists.test\n"), 0o644)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, []byte("not a certificate\n"), 0o644)
	check := func() (string, error) {
		return cli(t, "--config", cfg, "check", "--postfix-dir", postfix, "--exim-lists", exim, "--mta-timeout", "5s")
	}
	out, err := check()
	if err != nil {
		t.Fatalf("check of a sound site: %v\n%s", err, out)
	}
	for _, want := range []string{"config OK", "secrets OK: keyring passphrase", "secrets OK: queue key", "MTA OK", "MTA maps OK: " + filepath.Join(postfix, "cloister_recipients") + " is current", "MTA maps OK: " + exim, "scenarios OK", "keys OK"} {
		if !strings.Contains(out, want) {
			t.Errorf("check of a sound site lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "problem:") {
		t.Errorf("check of a sound site reports a problem:\n%s", out)
	}

	// Break everything at once.
	b, _ := os.ReadFile(cfg)
	var queueKey, pass string
	for _, l := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(l, " = "); ok && k == "queue_key_file" {
			queueKey = strings.Trim(v, `"`)
		}
		if k, v, ok := strings.Cut(l, " = "); ok && k == "keyring_passphrase_file" {
			pass = strings.Trim(v, `"`)
		}
	}
	if queueKey == "" || pass == "" {
		t.Fatalf("site config names no queue key or passphrase file:\n%s", b)
	}
	if out, err := cli(t, "--config", cfg, "list", "create", "board"); err != nil { // not in the maps
		t.Fatalf("%v\n%s", err, out)
	}
	os.Chmod(queueKey, 0o644)
	os.Chmod(pass, 0o666)
	os.WriteFile(filepath.Join(state, "bounce-secret"), []byte(strings.Repeat("ab", 32)+"\n"), 0o644)
	os.Chmod(filepath.Join(state, "bounce-secret"), 0o644)
	os.WriteFile(cfg, append(b, []byte("smime_cafile = \""+ca+"\"\n")...), 0o600)
	os.WriteFile(filepath.Join(postfix, "cloister_recipients"), []byte(recipients+"old-list@lists.test OK\n"), 0o644)
	os.Chtimes(filepath.Join(postfix, "cloister_recipients"), mapTime.Add(time.Hour), mapTime.Add(time.Hour)) // edited, not postmapped
	setSMTP(t, cfg, "127.0.0.1:1")

	out, err = check()
	if err == nil {
		t.Fatalf("check of a broken site passed:\n%s", out)
	}
	for _, want := range []string{
		"problem: secrets: keyring passphrase file " + pass + " has mode 0666",
		"problem: secrets: queue key: " + queueKey + " has mode 0644",
		"problem: secrets: bounce secret",
		"problem: CA files: smime_cafile " + ca + ": no PEM certificate",
		"problem: MTA: connect to MTA 127.0.0.1:1",
		"connection refused",
		"cloister_recipients lacks 8 addresses (board-bounces@lists.test",
		"cloister_recipients has 1 addresses no list has (old-list@lists.test)",
		"cloister_recipients.db is older than",
		"problem: MTA maps: " + exim + " lacks 1 addresses (board@lists.test)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("check lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(err.Error(), "problems found") {
		t.Errorf("check error %v", err)
	}
}
