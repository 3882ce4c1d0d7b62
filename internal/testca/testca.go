// Package testca makes a certificate authority and S/MIME certificates with
// the real openssl binary, and drives openssl cms as a subscriber's client
// would, for tests. Nothing in Cloister itself runs openssl.
package testca

import (
	"bytes"
	"embed"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// CA is a test certificate authority in a directory.
type CA struct {
	t   testing.TB
	Dir string
	// Cert and Key are the CA's PEM files.
	Cert, Key string
	// serial numbers the CA's leaves; a shared CA's views share one.
	serial *atomic.Int64
}

// Leaf is an S/MIME certificate and its key.
type Leaf struct {
	Email     string
	Cert, Key string // PEM files
	CertPEM   []byte
	KeyPEM    []byte
}

// keys holds RSA keys made once with openssl genpkey for these tests
// (keys/README.md): ca-NN.pem of 3072 bits, rsa2048-NN.pem of 2048.
//
//go:embed keys/*.pem
var keys embed.FS

// keyPool hands out the committed keys of one kind, each once per process,
// so that no two CAs or leaves of a test binary share a key; past the last
// one, keys are generated.
type keyPool struct {
	prefix string
	next   atomic.Int64
}

var (
	caKeys   = keyPool{prefix: "ca"}
	leafKeys = keyPool{prefix: "rsa2048"}
)

// take returns the pool's next unused key, or false when none is left.
func (p *keyPool) take() ([]byte, bool) {
	b, err := keys.ReadFile(fmt.Sprintf("keys/%s-%02d.pem", p.prefix, p.next.Add(1)))
	return b, err == nil
}

// New makes a CA ("Cloister Test CA", RSA-3072) with openssl, its key one
// of the committed keys not yet used in this process (generating an
// RSA-3072 key costs a second or more of CPU), or a new one past them.
func New(t testing.TB) *CA {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is required (apt-get install -y openssl; make test installs it)")
	}
	dir := t.TempDir()
	ca := &CA{t: t, Dir: dir, Cert: filepath.Join(dir, "ca.pem"), Key: filepath.Join(dir, "ca.key"), serial: new(atomic.Int64)}
	ca.serial.Store(1)
	if err := makeCA(ca.Key, ca.Cert); err != nil {
		t.Fatal(err)
	}
	return ca
}

// makeCA writes a CA key (from caKeys while they last) and its self-signed
// certificate into the files key and cert.
func makeCA(key, cert string) error {
	keyArgs := []string{"-newkey", "rsa:3072", "-nodes", "-keyout", key}
	if pem, ok := caKeys.take(); ok {
		if err := os.WriteFile(key, pem, 0o600); err != nil {
			return err
		}
		keyArgs = []string{"-key", key}
	}
	_, err := Exec(nil, append(append([]string{"req", "-x509", "-new"}, keyArgs...), "-out", cert,
		"-days", "3650", "-subj", "/CN=Cloister Test CA", "-addext", "basicConstraints=critical,CA:TRUE",
		"-addext", "keyUsage=critical,keyCertSign,cRLSign")...)
	return err
}

// shared is the process's one shared CA: its PEM files' bytes, made once
// by the first Shared, and the serial counter all its views draw from.
var shared struct {
	once      sync.Once
	cert, key []byte
	err       error
	serial    atomic.Int64
}

// Shared returns the test binary's one CA ("Cloister Test CA", RSA-3072,
// made as New makes one, by the first call), as a CA of t's own: its PEM files are written afresh into a
// directory of t (Dir), where the leaves t issues go too, so no test sees
// another's files. The leaves of all the process's tests have distinct
// serial numbers. A test that needs a CA no other test trusts (one whose
// certificates another CA must refuse) calls New.
func Shared(t testing.TB) *CA {
	t.Helper()
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is required (apt-get install -y openssl; make test installs it)")
	}
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "testca-")
		if err != nil {
			shared.err = err
			return
		}
		defer os.RemoveAll(dir)
		key, cert := filepath.Join(dir, "ca.key"), filepath.Join(dir, "ca.pem")
		if shared.err = makeCA(key, cert); shared.err != nil {
			return
		}
		if shared.key, shared.err = os.ReadFile(key); shared.err != nil {
			return
		}
		shared.cert, shared.err = os.ReadFile(cert)
		shared.serial.Store(1)
	})
	if shared.err != nil {
		t.Fatalf("shared test CA: %v", shared.err)
	}
	dir := t.TempDir()
	ca := &CA{t: t, Dir: dir, Cert: filepath.Join(dir, "ca.pem"), Key: filepath.Join(dir, "ca.key"), serial: &shared.serial}
	if err := os.WriteFile(ca.Key, shared.key, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(ca.Cert, shared.cert, 0o644); err != nil {
		t.Fatal(err)
	}
	return ca
}

// Run runs openssl and fails the test on error.
func (ca *CA) Run(stdin []byte, args ...string) []byte {
	ca.t.Helper()
	out, err := Exec(stdin, args...)
	if err != nil {
		ca.t.Fatal(err)
	}
	return out
}

// Exec runs openssl with stdin and returns stdout.
func Exec(stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command("openssl", args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	if err := cmd.Run(); err != nil {
		return out.Bytes(), fmt.Errorf("openssl %s: %v: %s", strings.Join(args, " "), err, errOut.String())
	}
	return out.Bytes(), nil
}

// Issue makes a leaf for email: kind "rsa" (RSA-2048: a committed key not
// yet used in this process while they last, see New), "ec" (P-256),
// "ed25519" (signing only) or "x25519" (key agreement only, RFC 8410);
// keyUsage as openssl writes it (e.g. "digitalSignature,keyEncipherment").
func (ca *CA) Issue(email, kind, keyUsage string) *Leaf {
	ca.t.Helper()
	return ca.issue(email, kind, keyUsage, "emailProtection")
}

// IssueBrowser makes a leaf like Issue whose extended key usage adds TLS
// client authentication to email protection: the S/MIME certificate a
// browser offers for client-certificate login (chromium offers only
// certificates allowed for client authentication).
func (ca *CA) IssueBrowser(email, kind, keyUsage string) *Leaf {
	ca.t.Helper()
	return ca.issue(email, kind, keyUsage, "clientAuth,emailProtection")
}

func (ca *CA) issue(email, kind, keyUsage, extKeyUsage string) *Leaf {
	ca.t.Helper()
	serial := ca.serial.Add(1)
	name := strings.NewReplacer("@", "_", ".", "_").Replace(email)
	l := &Leaf{Email: email, Cert: filepath.Join(ca.Dir, name+".pem"), Key: filepath.Join(ca.Dir, name+".key")}
	csr := filepath.Join(ca.Dir, name+".csr")
	newkey := "rsa:2048"
	var force []string
	switch kind {
	case "ec":
		ca.Run(nil, "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", l.Key+".ec")
		ca.Run(nil, "pkcs8", "-topk8", "-nocrypt", "-in", l.Key+".ec", "-out", l.Key)
		ca.Run(nil, "req", "-new", "-key", l.Key, "-out", csr, "-subj", "/CN="+email)
	case "ed25519":
		ca.Run(nil, "req", "-new", "-newkey", "ed25519", "-nodes", "-keyout", l.Key, "-out", csr, "-subj", "/CN="+email)
	case "x25519":
		// An X25519 key cannot sign its request: a throwaway Ed25519 key
		// signs it, and the certificate gets the X25519 key.
		ca.Run(nil, "req", "-new", "-newkey", "ed25519", "-nodes", "-keyout", l.Key+".csrkey", "-out", csr, "-subj", "/CN="+email)
		ca.Run(nil, "genpkey", "-algorithm", "x25519", "-out", l.Key)
		ca.Run(nil, "pkey", "-in", l.Key, "-pubout", "-out", l.Key+".pub")
		force = []string{"-force_pubkey", l.Key + ".pub"}
	default:
		if pem, ok := leafKeys.take(); ok {
			if err := os.WriteFile(l.Key, pem, 0o600); err != nil {
				ca.t.Fatal(err)
			}
			ca.Run(nil, "req", "-new", "-key", l.Key, "-out", csr, "-subj", "/CN="+email)
		} else {
			ca.Run(nil, "req", "-new", "-newkey", newkey, "-nodes", "-keyout", l.Key, "-out", csr, "-subj", "/CN="+email)
		}
	}
	ext := filepath.Join(ca.Dir, name+".ext")
	os.WriteFile(ext, []byte(fmt.Sprintf("basicConstraints=CA:FALSE\nkeyUsage=critical,%s\nextendedKeyUsage=%s\nsubjectAltName=email:%s\n", keyUsage, extKeyUsage, email)), 0o600)
	ca.Run(nil, append([]string{"x509", "-req", "-in", csr, "-CA", ca.Cert, "-CAkey", ca.Key, "-set_serial", fmt.Sprint(serial),
		"-days", "365", "-sha256", "-extfile", ext, "-out", l.Cert}, force...)...)
	l.CertPEM, _ = os.ReadFile(l.Cert)
	l.KeyPEM, _ = os.ReadFile(l.Key)
	return l
}

// SignEncrypt composes what an S/MIME client sends: inner (a MIME entity)
// signed by from as multipart/signed, then encrypted (AES-256-CBC) to the
// recipients' certificates, with the given header fields in front.
func (ca *CA) SignEncrypt(header string, inner []byte, from *Leaf, to ...string) []byte {
	ca.t.Helper()
	signed := ca.Run(inner, "cms", "-sign", "-signer", from.Cert, "-inkey", from.Key, "-md", "sha256")
	args := append([]string{"cms", "-encrypt", "-aes256"}, to...)
	enc := ca.Run(signed, args...)
	return append([]byte(header), enc...)
}

// Decrypt opens an S/MIME message with one recipient's certificate and key.
func Decrypt(msg []byte, l *Leaf) ([]byte, error) {
	return Exec(msg, "cms", "-decrypt", "-recip", l.Cert, "-inkey", l.Key)
}

// Verify checks an S/MIME signed message against the CA and returns its content.
func (ca *CA) Verify(msg []byte) ([]byte, error) {
	return Exec(msg, "cms", "-verify", "-CAfile", ca.Cert)
}
