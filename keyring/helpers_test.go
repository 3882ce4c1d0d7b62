package keyring

import (
	"bytes"
	"cloister/internal/testdirs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// testPassphrase is the keyring passphrase of the tests.
var testPassphrase = []byte("correct horse battery staple")

// newKeyring opens a keyring in a temporary directory.
func newKeyring(t testing.TB) *Keyring {
	t.Helper()
	k, err := Open(filepath.Join(t.TempDir(), "keyring.db"), testPassphrase, nil)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// gnupg is one GnuPG home directory.
type gnupg struct {
	t    testing.TB
	home string
}

// newGnuPG makes a temporary GNUPGHOME (short path: the agent's socket path
// is limited) and stops its agent when the test ends.
func newGnuPG(t testing.TB) *gnupg {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatalf("gpg is required (apt-get install -y gnupg): %v", err)
	}
	home, err := os.MkdirTemp("", "kgpg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(home, 0o700)
	// The agent's default S2K count is calibrated to ~100 ms per use; the
	// minimum keeps protected-key tests fast.
	os.WriteFile(filepath.Join(home, "gpg-agent.conf"), []byte("s2k-count 65536\n"), 0o600)
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", home, "--kill", "all").Run()
		os.RemoveAll(home)
	})
	return &gnupg{t: t, home: home}
}

// run runs gpg in batch mode with stdin, returns stdout, and fails the test
// on error. pass is the passphrase for loopback pinentry.
func (g *gnupg) runPass(stdin []byte, pass string, args ...string) []byte {
	g.t.Helper()
	all := append([]string{"--homedir", g.home, "--batch", "--yes", "--no-tty", "--pinentry-mode", "loopback",
		"--passphrase", pass, "--trust-model", "always"}, args...)
	cmd := exec.Command("gpg", all...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		g.t.Fatalf("gpg %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes()
}

func (g *gnupg) run(stdin []byte, args ...string) []byte {
	g.t.Helper()
	return g.runPass(stdin, "", args...)
}

// genKey makes a key for uid, "cv25519" (ed25519 + cv25519) or "rsa3072",
// and returns its fingerprint.
func (g *gnupg) genKey(uid, algo string) string {
	g.t.Helper()
	if algo == "rsa3072" {
		g.run(nil, "--quick-gen-key", uid, "rsa3072", "sign,cert", "0")
	} else {
		g.run(nil, "--quick-gen-key", uid, "ed25519", "sign,cert", "0")
	}
	fpr := g.fingerprint(uid)
	if algo == "rsa3072" {
		g.run(nil, "--quick-add-key", fpr, "rsa3072", "encr", "0")
	} else {
		g.run(nil, "--quick-add-key", fpr, "cv25519", "encr", "0")
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

// pki is a test CA made with openssl ca, in a temporary directory.
type pki struct {
	t   testing.TB
	dir string
}

const caConfig = `[ ca ]
default_ca = CA_default
[ CA_default ]
dir = .
database = db/index.txt
serial = db/serial
new_certs_dir = db
default_md = sha256
policy = policy_any
unique_subject = no
copy_extensions = none
default_crl_days = 30
crlnumber = db/crlnumber
[ policy_any ]
commonName = supplied
emailAddress = optional
[ leaf ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature,keyEncipherment
extendedKeyUsage = emailProtection
subjectAltName = email:copy
[ signonly ]
basicConstraints = CA:FALSE
keyUsage = critical,digitalSignature
extendedKeyUsage = emailProtection
subjectAltName = email:copy
`

// newPKI makes a CA (RSA-2048, CN name).
func newPKI(t testing.TB, name string) *pki {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is required (apt-get install -y openssl): %v", err)
	}
	p := &pki{t: t, dir: t.TempDir()}
	os.MkdirAll(filepath.Join(p.dir, "db"), 0o700)
	os.WriteFile(filepath.Join(p.dir, "db", "index.txt"), nil, 0o600)
	os.WriteFile(filepath.Join(p.dir, "db", "serial"), []byte("1000\n"), 0o600)
	os.WriteFile(filepath.Join(p.dir, "db", "crlnumber"), []byte("01\n"), 0o600)
	os.WriteFile(filepath.Join(p.dir, "ca.cnf"), []byte(caConfig), 0o600)
	p.openssl("req", "-x509", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.pem",
		"-subj", "/CN="+name, "-days", "30", "-addext", "basicConstraints=critical,CA:TRUE",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign")
	return p
}

// openssl runs openssl in the CA directory.
func (p *pki) openssl(args ...string) []byte {
	p.t.Helper()
	cmd := exec.Command("openssl", args...)
	cmd.Dir = p.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		p.t.Fatalf("openssl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// read returns a file of the CA directory.
func (p *pki) read(name string) []byte {
	p.t.Helper()
	b, err := os.ReadFile(filepath.Join(p.dir, name))
	if err != nil {
		p.t.Fatal(err)
	}
	return b
}

// leaf issues a certificate for email with an RSA-2048 key, using the
// extensions section ext ("leaf" or "signonly"); start and end are openssl
// dates (YYMMDDHHMMSSZ) or "" for now and 30 days. It writes NAME.pem and
// NAME.key and returns the certificate PEM.
func (p *pki) leaf(name, email, ext, start, end string) []byte {
	p.t.Helper()
	p.openssl("req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", name+".key", "-out", name+".csr",
		"-subj", "/CN="+name+"/emailAddress="+email)
	args := []string{"ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key",
		"-in", name + ".csr", "-out", name + ".pem", "-extensions", ext, "-notext"}
	if start != "" {
		args = append(args, "-startdate", start, "-enddate", end)
	} else {
		args = append(args, "-days", "30")
	}
	p.openssl(args...)
	return p.read(name + ".pem")
}

// revokeCert revokes NAME.pem and returns a fresh CRL (PEM).
func (p *pki) revokeCert(name string) []byte {
	p.t.Helper()
	p.openssl("ca", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-revoke", name+".pem")
	p.openssl("ca", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-gencrl", "-out", "ca.crl")
	return p.read("ca.crl")
}

// corpusDir returns the shared corpus.
func corpusDir(t testing.TB) string {
	t.Helper()
	return testdirs.Corpus(t)
}
