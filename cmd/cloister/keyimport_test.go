package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestKeyImportBulk: `cloister key import FILE|DIR` takes a whole exported
// keyring (armored or binary) or a folder of key files in one run, and
// binds each key to the members its user IDs name, except an address that
// two keys of the input claim (a self-claimed user ID proves nothing: the
// import does not pick), an address already bound to another key on file,
// and an address that is no member's.
func TestKeyImportBulk(t *testing.T) {
	testdirs.Slow(t, "runs gpg to make many keys")
	for _, tt := range []struct {
		name   string
		export func(g *gnupg.Home, dir string) string // returns the path to import
	}{
		{"armored keyring", func(g *gnupg.Home, dir string) string {
			p := filepath.Join(dir, "all.asc")
			os.WriteFile(p, g.Run(nil, "--armor", "--export"), 0o600)
			return p
		}},
		{"binary keyring", func(g *gnupg.Home, dir string) string {
			p := filepath.Join(dir, "all.gpg")
			os.WriteFile(p, g.Run(nil, "--export"), 0o600)
			return p
		}},
		{"armored blocks one after the other", func(g *gnupg.Home, dir string) string {
			var all []byte
			for _, who := range []string{"ann@", "bob@subs.test", "cat@", "eve@", "dan@"} {
				all = append(all, g.ExportPublic(who)...)
			}
			p := filepath.Join(dir, "cat.asc")
			os.WriteFile(p, all, 0o600)
			return p
		}},
		{"folder of files", func(g *gnupg.Home, dir string) string {
			d := filepath.Join(dir, "keys")
			os.Mkdir(d, 0o700)
			// bob.asc holds both keys naming bob, impostor.asc the second
			// again: a key given twice is one claimant.
			for _, who := range []string{"ann@", "bob@subs.test", "Bob Impostor", "cat@", "eve@", "dan@"} {
				os.WriteFile(filepath.Join(d, strings.NewReplacer("@", "", " ", "-").Replace(who)+".asc"), g.ExportPublic(who), 0o600)
			}
			return d
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfgPath := newSite(t)
			run := func(args ...string) string {
				t.Helper()
				out, err := cli(t, append([]string{"--config", cfgPath}, args...)...)
				if err != nil {
					t.Fatalf("cloister %s: %v\n%s", strings.Join(args, " "), err, out)
				}
				return out
			}
			run("list", "create", "team", "--owner", "own@subs.test")
			for _, m := range []string{"ann", "bob", "cat", "dan"} {
				run("member", "add", "team", m+"@subs.test")
			}
			g := gnupg.New(t)
			ann := g.GenKey("Ann <ann@subs.test>", "cv25519")
			g.GenKey("Bob <bob@subs.test>", "cv25519")
			g.GenKey("Bob Impostor <bob@subs.test>", "cv25519") // a second key claiming bob
			cat := g.GenKey("Cat <cat@subs.test>", "rsa2048")
			g.GenKey("Eve <eve@elsewhere.test>", "cv25519") // no member
			dan := g.GenKey("Dan <dan@subs.test>", "cv25519")
			// dan already has another key on file.
			other := gnupg.New(t)
			danOld := other.GenKey("Dan <dan@subs.test>", "cv25519")
			keyFile := filepath.Join(t.TempDir(), "dan-old.asc")
			os.WriteFile(keyFile, other.ExportPublic(danOld), 0o600)
			run("key", "add", "dan@subs.test", keyFile)

			out := run("key", "import", tt.export(g, t.TempDir()))
			for _, want := range []string{
				ann + ": bound to ann@subs.test",
				cat + ": bound to cat@subs.test",
				"not bound to bob@subs.test: claimed by 2 keys of the input",
				"not bound to eve@elsewhere.test: not a member of any list",
				dan + ": not bound to dan@subs.test: another key is bound to it: " + danOld,
				"(6 distinct)",
				"2 stored, bound to 2 addresses",
			} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			ls := run("key", "ls")
			for _, want := range []string{ann, cat, danOld} {
				if !strings.Contains(ls, want) {
					t.Errorf("key ls lacks %s:\n%s", want, ls)
				}
			}
			if strings.Contains(ls, dan) {
				t.Errorf("dan's second key was bound over the one on file:\n%s", ls)
			}
		})
	}
}
