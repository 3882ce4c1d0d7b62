package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// keySite makes a site whose config names a keyring passphrase file.
func keySite(t *testing.T) string {
	t.Helper()
	cfg := newSite(t)
	pass := filepath.Join(filepath.Dir(cfg), "keyring-passphrase")
	if err := os.WriteFile(pass, []byte("site passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(strings.TrimLeft(l, "# "), "keyring_passphrase_file") {
			lines = append(lines, l)
		}
	}
	lines = append(lines, "keyring_passphrase_file = \""+pass+"\"\n")
	if err := os.WriteFile(cfg, []byte(strings.Join(lines, "\n")), 0o600); err != nil {
		t.Fatal(err)
	}
	return cfg
}

// TestKeyCLI drives the key commands in process: generate, export (read by
// gpg), add a gpg-made subscriber key, ls, revoke, and the one-line errors.
func TestKeyCLI(t *testing.T) {
	testdirs.Slow(t, "runs gpg for every key command")
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatalf("gpg is required (apt-get install -y gnupg): %v", err)
	}
	cfg := keySite(t)
	run := func(args ...string) string {
		t.Helper()
		out, err := cli(t, append([]string{"--config", cfg}, args...)...)
		if err != nil {
			t.Fatalf("cloister %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	out := run("key", "generate", "team", "--pgp")
	fields := strings.Fields(out)
	fpr := fields[len(fields)-1]
	if !strings.HasPrefix(out, "team@lists.test: OpenPGP key ") || len(fpr) != 40 {
		t.Fatalf("generate said %q", out)
	}
	pub := run("key", "export", "team")
	if !strings.HasPrefix(pub, "-----BEGIN PGP PUBLIC KEY BLOCK-----") {
		t.Fatalf("export: %q", pub)
	}

	gpg := gpgHome(t)
	gpg(pub, "--import")
	if cols := gpg("", "--with-colons", "--list-keys", fpr); !strings.Contains(cols, "team@lists.test") {
		t.Fatalf("gpg does not list the exported key:\n%s", cols)
	}
	gpg("", "--quick-gen-key", "Ann <ann@subs.test>", "future-default", "default", "0")
	keyFile := filepath.Join(t.TempDir(), "ann.asc")
	os.WriteFile(keyFile, []byte(gpg("", "--armor", "--export", "ann@subs.test")), 0o600)

	if out, err := cli(t, "--config", cfg, "key", "add", "bob@subs.test", keyFile); err == nil || strings.Contains(err.Error(), "\n") || !strings.Contains(err.Error(), "--bind") && !strings.Contains(err.Error(), "bind") {
		t.Fatalf("unbound add: %v %q", err, out)
	}
	out = run("key", "add", "ann@subs.test", keyFile)
	annFpr := strings.Fields(out)[len(strings.Fields(out))-1]
	ls := run("key", "ls")
	for _, want := range []string{"team@lists.test  list", "ann@subs.test", annFpr, " ok "} {
		if !strings.Contains(ls, want) {
			t.Fatalf("key ls lacks %q:\n%s", want, ls)
		}
	}
	if only := run("key", "ls", "ann@subs.test"); strings.Contains(only, "team@lists.test") || !strings.Contains(only, annFpr) {
		t.Fatalf("key ls ADDRESS:\n%s", only)
	}
	run("key", "revoke", "ann@subs.test", annFpr)
	if ls := run("key", "ls"); strings.Contains(ls, annFpr) {
		t.Fatalf("removed key still listed:\n%s", ls)
	}
	run("key", "revoke", "team", fpr)
	if ls := run("key", "ls", "team"); !strings.Contains(ls, "revoked") {
		t.Fatalf("revoked list key:\n%s", ls)
	}

	// S/MIME: self-signed certificate, export, CSR.
	out = run("key", "generate", "team", "--smime", "--rsa", "2048")
	if !strings.Contains(out, "S/MIME") {
		t.Fatalf("generate --smime: %q", out)
	}
	if pem := run("key", "export", "team", "--smime"); !strings.HasPrefix(pem, "-----BEGIN CERTIFICATE-----") {
		t.Fatalf("export --smime: %q", pem)
	}
	if csr := run("key", "csr", "team"); !strings.HasPrefix(csr, "-----BEGIN CERTIFICATE REQUEST-----") {
		t.Fatalf("csr: %q", csr)
	}

	// A new passphrase re-seals both list keys.
	newPass := filepath.Join(t.TempDir(), "new-passphrase")
	os.WriteFile(newPass, []byte("another one\n"), 0o600)
	if out := run("key", "passphrase", newPass); !strings.HasPrefix(out, "re-sealed 2 list keys") {
		t.Fatalf("key passphrase: %q", out)
	}

	// Errors are one line.
	bad := filepath.Join(t.TempDir(), "bad.asc")
	os.WriteFile(bad, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----\n\n!!!\n"), 0o600)
	for _, args := range [][]string{
		{"key", "add", "x@subs.test", bad},
		{"key", "export", "nolist"},
		{"key", "import", "team", "/nonexistent"},
		{"key", "generate", "other", "--rsa", "1024"},
	} {
		_, err := cli(t, append([]string{"--config", cfg}, args...)...)
		if err == nil || strings.Contains(err.Error(), "\n") {
			t.Errorf("cloister %s: error %q, want one line", strings.Join(args, " "), err)
		}
	}
}

// TestKeyCLIPassphrase checks that a loose passphrase file is refused.
func TestKeyCLIPassphrase(t *testing.T) {
	cfg := keySite(t)
	os.Chmod(filepath.Join(filepath.Dir(cfg), "keyring-passphrase"), 0o644)
	_, err := cli(t, "--config", cfg, "key", "generate", "team")
	if err == nil || !strings.Contains(err.Error(), "mode 0644") {
		t.Fatalf("loose passphrase file: %v", err)
	}
}
