package pgp

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// gnupg is one GnuPG home directory, as one subscriber or sender has.
type gnupg struct {
	t    testing.TB
	home string
}

// newGnuPG makes a temporary GNUPGHOME (short path: gpg-agent's socket path
// is limited) and stops its agent when the test ends.
func newGnuPG(t testing.TB) *gnupg {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatalf("gpg is required for the interoperability tests (apt-get install -y gnupg): %v", err)
	}
	home, err := os.MkdirTemp("", "cgpg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	return &gnupg{t: t, home: home}
}

// run runs gpg in batch mode with stdin and returns stdout; status lines go
// to the returned status string. A failing gpg fails the test unless
// allowFail.
func (g *gnupg) exec(stdin []byte, allowFail bool, args ...string) (out []byte, status string, err error) {
	g.t.Helper()
	sf := filepath.Join(g.home, "status")
	all := append([]string{"--homedir", g.home, "--batch", "--yes", "--no-tty", "--pinentry-mode", "loopback",
		"--passphrase", "", "--trust-model", "always", "--status-file", sf}, args...)
	cmd := exec.Command("gpg", all...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	st, _ := os.ReadFile(sf)
	if err != nil && !allowFail {
		g.t.Fatalf("gpg %s: %v\n%s\nstatus:\n%s", strings.Join(args, " "), err, stderr.String(), st)
	}
	return stdout.Bytes(), string(st), err
}

// run runs gpg and fails the test on error.
func (g *gnupg) run(stdin []byte, args ...string) []byte {
	g.t.Helper()
	out, _, _ := g.exec(stdin, false, args...)
	return out
}

// genKey makes a key for uid: "cv25519" (ed25519 primary, cv25519
// subkey) or "rsa3072", expiring after expire ("0" for never). It returns
// the fingerprint.
func (g *gnupg) genKey(uid, algo, expire string) string {
	g.t.Helper()
	if algo == "rsa3072" {
		g.run(nil, "--quick-gen-key", uid, "rsa3072", "sign,cert", expire)
	} else {
		g.run(nil, "--quick-gen-key", uid, "future-default", "default", expire)
	}
	fpr := g.fingerprint(uid)
	if algo == "rsa3072" {
		g.run(nil, "--quick-add-key", fpr, "rsa3072", "encr", expire)
	}
	return fpr
}

// fingerprint returns the primary key fingerprint for a user ID.
func (g *gnupg) fingerprint(uid string) string {
	g.t.Helper()
	out := g.run(nil, "--with-colons", "--list-keys", uid)
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "fpr:") {
			return strings.Split(l, ":")[9]
		}
	}
	g.t.Fatalf("no fingerprint for %s in %s", uid, out)
	return ""
}

// export returns the public key of uid as Go entities.
func (g *gnupg) export(uid string) *openpgp.Entity {
	g.t.Helper()
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(g.run(nil, "--armor", "--export", uid)))
	if err != nil || len(el) != 1 {
		g.t.Fatalf("read exported key %s: %v (%d keys)", uid, err, len(el))
	}
	return el[0]
}

// exportSecret returns the secret key of uid as a Go entity.
func (g *gnupg) exportSecret(uid string) *openpgp.Entity {
	g.t.Helper()
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(g.run(nil, "--armor", "--export-secret-keys", uid)))
	if err != nil || len(el) != 1 {
		g.t.Fatalf("read exported secret key %s: %v", uid, err)
	}
	return el[0]
}

// importKey imports a Go entity's public key.
func (g *gnupg) importKey(e *openpgp.Entity) {
	g.t.Helper()
	var b bytes.Buffer
	w, _ := armor.Encode(&b, "PGP PUBLIC KEY BLOCK", nil)
	if err := e.Serialize(w); err != nil {
		g.t.Fatal(err)
	}
	w.Close()
	g.run(b.Bytes(), "--import")
}

// revoke imports the revocation certificate gpg made for fpr.
func (g *gnupg) revoke(fpr string) {
	g.t.Helper()
	rev, err := os.ReadFile(filepath.Join(g.home, "openpgp-revocs.d", fpr+".rev"))
	if err != nil {
		g.t.Fatal(err)
	}
	rev = bytes.Replace(rev, []byte(":-----BEGIN"), []byte("-----BEGIN"), 1)
	g.run(rev, "--import")
}
