package main

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"
)

// systemInit runs `init --system` with every place inside root.
func systemInit(t *testing.T, root string, extra ...string) (string, error) {
	t.Helper()
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	args := append([]string{"init", "--system", "--domain", "lists.test",
		"--state-dir", filepath.Join(root, "var"), "--config-dir", filepath.Join(root, "etc"),
		"--credentials-dir", filepath.Join(root, "etc", "credentials"), "--user", me.Username}, extra...)
	return cli(t, args...)
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return fi.Mode().Perm()
}

func TestInitSystemLayout(t *testing.T) {
	root := t.TempDir()
	if out, err := systemInit(t, root); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	for p, want := range map[string]os.FileMode{
		"var":                                0o700,
		"var/cloister.db":                    0o600,
		"var/bounce-secret":                  0o600,
		"etc/credentials":                    0o700,
		"etc/credentials/keyring-passphrase": 0o600,
		"etc/credentials/queue-key":          0o600,
		"etc/cloister.toml":                  0o640,
	} {
		if got := mode(t, filepath.Join(root, p)); got != want {
			t.Errorf("%s has mode %04o, want %04o", p, got, want)
		}
	}
	cfg := filepath.Join(root, "etc", "cloister.toml")
	b, _ := os.ReadFile(cfg)
	for _, line := range strings.Split(string(b), "\n") {
		if strings.HasPrefix(line, "keyring_passphrase_file") || strings.HasPrefix(line, "queue_key_file") {
			t.Errorf("the config names a secret file instead of leaving it to $CREDENTIALS_DIRECTORY: %s", line)
		}
	}
	// The site works with the secrets handed over as credentials.
	t.Setenv("CREDENTIALS_DIRECTORY", filepath.Join(root, "etc", "credentials"))
	if out, err := cli(t, "--config", cfg, "list", "create", "team", "--owner", "ann@subs.test"); err != nil {
		t.Fatalf("list create: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(root, "var", "secrets")); !os.IsNotExist(err) {
		t.Errorf("secrets written into the state dir: %v", err)
	}
}

func TestInitSystemRefusesLoosePermissions(t *testing.T) {
	tests := []struct {
		name  string
		loose string // made 0755 or 0644 before init runs again
	}{
		{"state dir", "var"},
		{"credentials dir", "etc/credentials"},
		{"queue key", "etc/credentials/queue-key"},
		{"database", "var/cloister.db"},
		{"bounce secret", "var/bounce-secret"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			if out, err := systemInit(t, root); err != nil {
				t.Fatalf("%v\n%s", err, out)
			}
			p := filepath.Join(root, tt.loose)
			m := os.FileMode(0o644)
			if fi, _ := os.Stat(p); fi.IsDir() {
				m = 0o755
			}
			if err := os.Chmod(p, m); err != nil {
				t.Fatal(err)
			}
			_, err := systemInit(t, root, "--force")
			if err == nil || !strings.Contains(err.Error(), "looser") || !strings.Contains(err.Error(), p) {
				t.Fatalf("init --system over a loose %s: %v", tt.loose, err)
			}
		})
	}
}

func TestInitSystemNeedsItsUser(t *testing.T) {
	_, err := systemInit(t, t.TempDir(), "--user", "no-such-cloister-user")
	if err == nil || !strings.Contains(err.Error(), "no user") {
		t.Fatalf("init --system for a missing user: %v", err)
	}
}
