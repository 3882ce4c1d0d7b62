package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cliSplit runs the CLI with stdout and stderr kept apart.
func cliSplit(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	a := &app{logLevel: "error"}
	root := a.rootCmd()
	root.SetArgs(append([]string{"--log-level", "error"}, args...))
	var out, errOut bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&errOut)
	err = root.Execute()
	return out.String(), errOut.String(), err
}

// TestKeyAddWarnsOfUnboundUserIDs: key add and member add --key with a
// gpg key whose other self-signed user IDs name the owner and another
// member say on stderr that those addresses are not bound; a key naming
// only its own address gets no warning.
func TestKeyAddWarnsOfUnboundUserIDs(t *testing.T) {
	cfg := keySite(t)
	if out, err := cli(t, "--config", cfg, "list", "create", "team", "--owner", "ann@subs.test"); err != nil {
		t.Fatalf("list create: %v\n%s", err, out)
	}
	gpg := gpgHome(t)
	gpg("", "--quick-gen-key", "Eve <eve@evil.test>", "ed25519", "sign,cert", "0")
	fpr := fingerprintOf(t, gpg, "eve@evil.test")
	gpg("", "--quick-add-uid", fpr, "Ann <ann@subs.test>")
	gpg("", "--quick-add-uid", fpr, "bob@subs.test")
	gpg("", "--quick-gen-key", "Cat <cat@subs.test>", "ed25519", "sign,cert", "0")
	dir := t.TempDir()
	eveKey, catKey := filepath.Join(dir, "eve.asc"), filepath.Join(dir, "cat.asc")
	os.WriteFile(eveKey, []byte(gpg("", "--armor", "--export", "eve@evil.test")), 0o600)
	os.WriteFile(catKey, []byte(gpg("", "--armor", "--export", "cat@subs.test")), 0o600)

	for _, args := range [][]string{
		{"key", "add", "eve@evil.test", eveKey},
		{"member", "add", "team", "eve@evil.test", "--key", eveKey},
	} {
		out, errOut, err := cliSplit(t, append([]string{"--config", cfg}, args...)...)
		if err != nil {
			t.Fatalf("%v: %v\n%s%s", args, err, out, errOut)
		}
		if !strings.Contains(errOut, "warning: the key also names ann@subs.test, bob@subs.test; it is bound to eve@evil.test only") {
			t.Errorf("%v: stderr %q", args, errOut)
		}
		if strings.Contains(out, "warning") {
			t.Errorf("%v: the warning is on stdout: %q", args, out)
		}
	}
	out, errOut, err := cliSplit(t, "--config", cfg, "member", "add", "team", "cat@subs.test", "--key", catKey)
	if err != nil || errOut != "" || !strings.Contains(out, "added cat@subs.test") {
		t.Fatalf("a key naming its own address only: %v, stdout %q, stderr %q", err, out, errOut)
	}
}
