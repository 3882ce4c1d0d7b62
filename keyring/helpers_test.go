package keyring

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
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
