package main

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestKeyAddAnnouncedInListLanguage: the notices of a key bound or unbound
// on the server (cloister key add, key revoke), which the service words,
// are written in the list's language: the event sentence and who asked.
func TestKeyAddAnnouncedInListLanguage(t *testing.T) {
	testdirs.Slow(t, "runs gpg for every language")
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatalf("gpg is required (apt-get install -y gnupg): %v", err)
	}
	tests := []struct {
		lang           string
		bound, unbound string
	}{
		{"fr", "La clé OpenPGP %s a été liée à bob@subs.test par l'opérateur", "La clé %s a été déliée de bob@subs.test par l'opérateur"},
		{"de", "Der OpenPGP-Schlüssel %s wurde von dem Betreiber", "Der Schlüssel %s wurde von dem Betreiber"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			cfg := keySite(t)
			run := func(args ...string) string {
				t.Helper()
				out, err := cli(t, append([]string{"--config", cfg}, args...)...)
				if err != nil {
					t.Fatalf("cloister %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return out
			}
			run("list", "create", "team", "--owner", "ann@subs.test")
			run("list", "set", "team", "language", tt.lang)
			run("member", "add", "team", "bob@subs.test")
			run("key", "generate", "team", "--pgp")
			home := t.TempDir()
			t.Cleanup(func() { exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run() })
			gen := exec.Command("gpg", "--homedir", home, "--batch", "--pinentry-mode", "loopback", "--passphrase", "",
				"--quick-gen-key", "Bob <bob@subs.test>", "future-default", "default", "0")
			if out, err := gen.CombinedOutput(); err != nil {
				t.Fatalf("gpg: %v\n%s", err, out)
			}
			pub, err := exec.Command("gpg", "--homedir", home, "--armor", "--export", "bob@subs.test").Output()
			if err != nil {
				t.Fatal(err)
			}
			keyFile := filepath.Join(t.TempDir(), "bob.asc")
			if err := os.WriteFile(keyFile, pub, 0o600); err != nil {
				t.Fatal(err)
			}
			out := run("key", "add", "bob@subs.test", keyFile)
			first, _, _ := strings.Cut(out, "\n")
			fpr := strings.Fields(first)[len(strings.Fields(first))-1]
			queued := func() string {
				var all strings.Builder
				err := filepath.WalkDir(filepath.Join(filepath.Dir(cfg), "queue"), func(p string, d fs.DirEntry, err error) error {
					if err != nil || d.IsDir() {
						return err
					}
					b, err := os.ReadFile(p)
					all.Write(b)
					return err
				})
				if err != nil {
					t.Fatal(err)
				}
				// Undo quoted-printable's soft breaks and the signed
				// text's line ends.
				s := strings.ReplaceAll(all.String(), "=\r\n", "")
				s = strings.ReplaceAll(strings.ReplaceAll(s, "=\n", ""), "\r\n", "\n")
				return strings.ReplaceAll(strings.ReplaceAll(s, "=C3=A9", "é"), "=C3=BC", "ü")
			}
			text := queued()
			if want := strings.ReplaceAll(tt.bound, "%s", fpr); !strings.Contains(text, want) {
				t.Errorf("no notice says %q:\n%s", want, text)
			}
			run("key", "revoke", "bob@subs.test", fpr)
			text = queued()
			if want := strings.ReplaceAll(tt.unbound, "%s", fpr); !strings.Contains(text, want) {
				t.Errorf("no notice says %q:\n%s", want, text)
			}
			for _, english := range []string{"was bound to", "was unbound from", "operator", "Requested by"} {
				if strings.Contains(text, english) {
					t.Errorf("a notice holds the English %q:\n%s", english, text)
				}
			}
		})
	}
}
