package smime

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// member is a certificate and key made by openssl, with their files.
type member struct {
	cert     *x509.Certificate
	key      crypto.Signer     // nil for a key-agreement-only key (X25519)
	priv     crypto.PrivateKey // the private key, whatever its kind
	certFile string
	keyFile  string
}

// testPKI is a CA, a rogue CA, and members made with the openssl binary.
type testPKI struct {
	dir     string
	ca      *member
	rogueCA *member
	m       map[string]*member
}

var (
	pkiOnce sync.Once
	pki     *testPKI
	pkiErr  error
)

// opensslBin returns the openssl binary or fails the test.
func opensslBin(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("openssl")
	if err != nil {
		t.Fatalf("openssl is needed for these tests (apt-get install -y openssl): %v", err)
	}
	return bin
}

// runOpenSSL runs openssl with stdin and returns stdout, or an error with stderr.
func runOpenSSL(bin string, stdin []byte, args ...string) ([]byte, error) {
	cmd := exec.Command(bin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("openssl %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return out, nil
}

// mustOpenSSL runs openssl and fails the test on error.
func mustOpenSSL(t testing.TB, stdin []byte, args ...string) []byte {
	t.Helper()
	out, err := runOpenSSL(opensslBin(t), stdin, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// memberSpec describes one certificate to issue.
type memberSpec struct {
	name, keyAlg, ext string
	rogue             bool
}

var memberSpecs = []memberSpec{
	{"list", "rsa", "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=emailProtection\nsubjectAltName=email:team@lists.example.test\n", false},
	{"alice", "rsa", "keyUsage=critical,digitalSignature,keyEncipherment\nextendedKeyUsage=emailProtection\nsubjectAltName=email:alice@example.test\n", false},
	// alice2: a second certificate from the trusted CA naming alice's address.
	{"alice2", "ec", "keyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=emailProtection\nsubjectAltName=email:alice@example.test\n", false},
	{"erin", "ec", "keyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=emailProtection\nsubjectAltName=email:erin@example.test\n", false},
	{"noemail", "ec", "keyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=emailProtection\n", false},
	{"signonly", "ec", "keyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nsubjectAltName=email:sig@example.test\n", false},
	{"server", "ec", "keyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=serverAuth\nsubjectAltName=email:srv@example.test\n", false},
	{"edna", "ed25519", "keyUsage=critical,digitalSignature\nextendedKeyUsage=emailProtection\nsubjectAltName=email:edna@example.test\n", false},
	{"xavier", "x25519", "keyUsage=critical,keyAgreement\nextendedKeyUsage=emailProtection\nsubjectAltName=email:xavier@example.test\n", false},
	{"xlist", "x25519", "keyUsage=critical,keyAgreement\nextendedKeyUsage=emailProtection\nsubjectAltName=email:team@lists.example.test\n", false},
	{"mallory", "ec", "keyUsage=critical,digitalSignature,keyAgreement\nextendedKeyUsage=emailProtection\nsubjectAltName=email:mallory@example.test\n", true},
}

// thePKI makes the test PKI once per test binary: an RSA-2048 CA, RSA-2048
// and ECDSA P-256 members, and a rogue CA that the tests do not trust.
func thePKI(t testing.TB) *testPKI {
	t.Helper()
	bin := opensslBin(t)
	pkiOnce.Do(func() { pki, pkiErr = makePKI(bin) })
	if pkiErr != nil {
		t.Fatalf("make test PKI: %v", pkiErr)
	}
	return pki
}

func makePKI(bin string) (*testPKI, error) {
	dir, err := os.MkdirTemp("", "smime-pki-")
	if err != nil {
		return nil, err
	}
	p := &testPKI{dir: dir, m: map[string]*member{}}
	run := func(args ...string) error { _, err := runOpenSSL(bin, nil, args...); return err }
	mkCA := func(name, keyAlg string) (*member, error) {
		kf, cf := filepath.Join(dir, name+".key"), filepath.Join(dir, name+".crt")
		args := []string{"req", "-x509", "-new", "-nodes", "-keyout", kf, "-out", cf, "-days", "3650",
			"-subj", "/CN=" + name, "-addext", "basicConstraints=critical,CA:TRUE",
			"-addext", "keyUsage=critical,keyCertSign,cRLSign"}
		if keyAlg == "rsa" {
			args = append(args, "-newkey", "rsa:2048")
		} else {
			args = append(args, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")
		}
		if err := run(args...); err != nil {
			return nil, err
		}
		return loadMember(cf, kf)
	}
	if p.ca, err = mkCA("Cloister Test CA", "rsa"); err != nil {
		return nil, err
	}
	if p.rogueCA, err = mkCA("Rogue CA", "ec"); err != nil {
		return nil, err
	}
	for i, s := range memberSpecs {
		kf, csr, cf := filepath.Join(dir, s.name+".key"), filepath.Join(dir, s.name+".csr"), filepath.Join(dir, s.name+".crt")
		ext := filepath.Join(dir, s.name+".ext")
		os.WriteFile(ext, []byte(s.ext), 0o600)
		csrKey := kf
		if s.keyAlg == "x25519" {
			// An X25519 key cannot sign its request: a throwaway Ed25519
			// key signs it and the certificate gets the X25519 key.
			csrKey = filepath.Join(dir, s.name+".csrkey")
		}
		args := []string{"req", "-new", "-nodes", "-keyout", csrKey, "-out", csr, "-subj", "/CN=" + s.name}
		switch s.keyAlg {
		case "rsa":
			args = append(args, "-newkey", "rsa:2048")
		case "ed25519", "x25519":
			args = append(args, "-newkey", "ed25519")
		default:
			args = append(args, "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256")
		}
		if err := run(args...); err != nil {
			return nil, err
		}
		var force []string
		if s.keyAlg == "x25519" {
			pub := filepath.Join(dir, s.name+".pub")
			if err := run("genpkey", "-algorithm", "x25519", "-out", kf); err != nil {
				return nil, err
			}
			if err := run("pkey", "-in", kf, "-pubout", "-out", pub); err != nil {
				return nil, err
			}
			force = []string{"-force_pubkey", pub}
		}
		ca := p.ca
		if s.rogue {
			ca = p.rogueCA
		}
		if err := run(append([]string{"x509", "-req", "-in", csr, "-CA", ca.certFile, "-CAkey", ca.keyFile,
			"-set_serial", fmt.Sprint(1000 + i), "-days", "30", "-sha256", "-extfile", ext, "-out", cf}, force...)...); err != nil {
			return nil, err
		}
		if p.m[s.name], err = loadMember(cf, kf); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// loadMember reads a PEM certificate and PEM private key.
func loadMember(certFile, keyFile string) (*member, error) {
	certs, _, err := readPEM(certFile)
	if err != nil {
		return nil, err
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, err
	}
	b, _ := pem.Decode(data)
	if len(certs) == 0 || b == nil {
		return nil, fmt.Errorf("%s, %s: no certificate or key", certFile, keyFile)
	}
	priv, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", keyFile, err)
	}
	key, _ := priv.(crypto.Signer)
	return &member{cert: certs[0], key: key, priv: priv, certFile: certFile, keyFile: keyFile}, nil
}

// readPEM reads every certificate and the first private key from PEM files.
func readPEM(files ...string) ([]*x509.Certificate, crypto.Signer, error) {
	var certs []*x509.Certificate
	var key crypto.Signer
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			return nil, nil, err
		}
		c, k, err := parsePEM(data)
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", f, err)
		}
		certs = append(certs, c...)
		if key == nil {
			key = k
		}
	}
	return certs, key, nil
}

func parsePEM(data []byte) ([]*x509.Certificate, crypto.Signer, error) {
	var certs []*x509.Certificate
	var key crypto.Signer
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return certs, key, nil
		}
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			certs = append(certs, c)
		case "PRIVATE KEY":
			k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
			if err != nil {
				return nil, nil, err
			}
			key = k.(crypto.Signer)
		}
	}
}

// pool returns a CertPool of the given certificates.
func pool(certs ...*x509.Certificate) *x509.CertPool {
	p := x509.NewCertPool()
	for _, c := range certs {
		p.AddCert(c)
	}
	return p
}

// loadP12 converts a PKCS#12 bundle with openssl and returns the key, the
// certificate that matches it and the other certificates.
func loadP12(t testing.TB, path, pass string) (*x509.Certificate, crypto.Signer, []*x509.Certificate) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := pem.Decode(data); b != nil && b.Type == "PKCS12" {
		data = b.Bytes // the PEM-armoured bundle of the protected-headers vectors
	}
	f := filepath.Join(t.TempDir(), "bundle.p12")
	os.WriteFile(f, data, 0o600)
	out := mustOpenSSL(t, nil, "pkcs12", "-in", f, "-passin", "pass:"+pass, "-nodes")
	certs, key, err := parsePEM(out)
	if err != nil || key == nil {
		t.Fatalf("%s: %v (key %v)", path, err, key != nil)
	}
	for i, c := range certs {
		if pub, ok := c.PublicKey.(interface{ Equal(crypto.PublicKey) bool }); ok && pub.Equal(key.Public()) {
			return c, key, append(certs[:i:i], certs[i+1:]...)
		}
	}
	t.Fatalf("%s: no certificate matches the key", path)
	return nil, nil, nil
}

func TestMain(m *testing.M) {
	code := m.Run()
	if pki != nil {
		os.RemoveAll(pki.dir)
	}
	os.Exit(code)
}
