package api_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestCLIRemoteLifecycle drives a whole list life cycle with the CLI's
// remote mode (cloister --api ... --token-file ...) against the real
// daemon, over the Unix socket and over TLS with a pinned certificate, from
// a directory with no configuration: create with a style, settings, members,
// import, export, a list key made and revoked on the server, a list's
// secret key and a member's key imported from the operator's files, the
// site's chores, delete. The daemon's site changes, and its audit log
// names the API.
func TestCLIRemoteLifecycle(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	tokFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(tokFile, []byte(s.token("site:admin")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	unix := s.startDaemon("--socket", s.dir+"/api.sock")
	tlsd := s.startDaemon("--listen", "127.0.0.1:0")
	transports := []struct {
		name string
		api  []string
	}{
		{"unix", []string{"--api", unix.api, "--token-file", tokFile}},
		{"tls", []string{"--api", tlsd.api, "--api-fingerprint", tlsd.fpr, "--token-file", tokFile}},
	}
	csv := "address,name,roles,delivery\ncarol@subs.test,Carol,member,digest\ndave@subs.test,Dave\n"
	for _, tr := range transports {
		t.Run(tr.name, func(t *testing.T) {
			list := tr.name + "-life@lists.test"
			// A member's key and a list secret key, made by gpg, read from
			// files on the operator's side and sent to the daemon.
			kim := tr.name + "-kim@subs.test"
			g := gnupg.New(t)
			g.GenKey("Kim <"+kim+">", "future-default")
			g.GenKey("Life <"+list+">", "future-default")
			dir := t.TempDir()
			kimKey, listKey := filepath.Join(dir, "kim.asc"), filepath.Join(dir, "list.asc")
			os.WriteFile(kimKey, g.ExportPublic(kim), 0o600)
			os.WriteFile(listKey, g.ExportSecret(list), 0o600)
			steps := []struct {
				args  []string
				stdin string
				want  string // in the output
			}{
				{[]string{"list", "create", list, "--style", "announce", "--description", "Life"}, "", list},
				{[]string{"list", "set", list, "subject_prefix", "[life]"}, "", ""},
				{[]string{"list", "show", list}, "", "[life]"},
				{[]string{"list", "ls"}, "", list},
				{[]string{"member", "add", list, "ann@subs.test"}, "", "ann@subs.test"},
				{[]string{"member", "import", list, "-"}, csv, "imported 2"},
				{[]string{"member", "ls", list}, "", "carol@subs.test"},
				{[]string{"member", "remove", list, "ann@subs.test"}, "", ""},
				{[]string{"member", "export", list, "--csv"}, "", "dave@subs.test,Dave"},
				{[]string{"audit", "--list", list}, "", "member.import"},
				{[]string{"key", "generate", list}, "", "OpenPGP key"},
				{[]string{"key", "revoke", list, "{fpr}"}, "", "revoked OpenPGP key"},
				{[]string{"key", "import", list, listKey}, "", list + ": OpenPGP key"},
				{[]string{"member", "add", list, kim}, "", kim},
				{[]string{"key", "import", kimKey}, "", "bound to " + kim},
				{[]string{"held", "expire"}, "", "expired 0 held posts"},
				{[]string{"key", "check-expiry"}, "", "queued"},
				{[]string{"list", "delete", list, "--yes"}, "", "deleted"},
			}
			fpr := ""
			for _, st := range steps {
				for i, a := range st.args {
					if a == "{fpr}" {
						st.args[i] = fpr
					}
				}
				out, err := remoteCLI(t, tr.api, st.stdin, st.args...)
				if err != nil || !strings.Contains(out, st.want) {
					t.Fatalf("cloister %s: %v\n%s", strings.Join(st.args, " "), err, out)
				}
				if st.args[0] == "key" && st.args[1] == "generate" {
					f := strings.Fields(out)
					fpr = f[len(f)-1] // the list key made on the server
				}
			}
			// Each step reached the daemon's site: the list is gone there,
			// and its audit log has the changes, by token, via the API.
			if out := s.run("list", "ls"); strings.Contains(out, list) {
				t.Fatalf("the list is still on the site:\n%s", out)
			}
			audit := s.run("audit", "--list", list, "--json")
			for _, op := range []string{"list.create", "list.set", "member.add", "member.import", "member.remove", "listkey.generate", "listkey.revoke", "listkey.import", "list.delete"} {
				if !strings.Contains(audit, `"op": "`+op+`"`) && !strings.Contains(audit, `"op":"`+op+`"`) {
					t.Errorf("no %s in the site's audit log:\n%s", op, audit)
				}
			}
			if !strings.Contains(audit, `"via": "api"`) && !strings.Contains(audit, `"via":"api"`) {
				t.Errorf("the audit log does not name the API:\n%s", audit)
			}
		})
	}

	t.Run("refusals", func(t *testing.T) {
		api := transports[0].api
		if out, err := remoteCLI(t, api, "", "runner", "incoming", "--once"); err == nil || !strings.Contains(out, "local site only") {
			t.Fatalf("a local-only command in remote mode: %v\n%s", err, out)
		}
		if out, err := remoteCLI(t, []string{"--api", tlsd.api, "--api-fingerprint", strings.Repeat("00", 32), "--token-file", tokFile}, "", "list", "ls"); err == nil {
			t.Fatalf("a wrong certificate pin was accepted:\n%s", out)
		}
		bad := filepath.Join(t.TempDir(), "bad")
		os.WriteFile(bad, []byte("cloister_"+strings.Repeat("C", 43)), 0o600)
		if out, err := remoteCLI(t, []string{"--api", unix.api, "--token-file", bad}, "", "list", "ls"); err == nil || !strings.Contains(out, "not valid") {
			t.Fatalf("a bad token: %v\n%s", err, out)
		}
	})
}

// remoteCLI runs the cloister binary in remote mode from an empty
// directory, with no configuration to find.
func remoteCLI(t *testing.T, api []string, stdin string, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command(cloisterBin, append(api, args...)...)
	cmd.Dir = t.TempDir()
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + cmd.Dir}
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	return out.String(), err
}
