package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testID is a certificate and its key, also written as PEM files for openssl.
type testID struct {
	cert     *x509.Certificate
	key      crypto.Signer
	certFile string
	keyFile  string
}

var (
	idsOnce sync.Once
	idsDir  string
	ids     map[string]*testID
	idsErr  error
)

// identities returns a test CA-issued RSA-2048 and EC P-256 identity plus a
// second RSA one, made once per test binary.
func identities(t testing.TB) map[string]*testID {
	t.Helper()
	idsOnce.Do(func() {
		idsDir, idsErr = os.MkdirTemp("", "cms-test-")
		if idsErr != nil {
			return
		}
		caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		caTmpl := &x509.Certificate{
			SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "CMS Test CA"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
			IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
		}
		caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
		if err != nil {
			idsErr = err
			return
		}
		ca, _ := x509.ParseCertificate(caDER)
		ids = map[string]*testID{}
		for i, name := range []string{"rsa", "ec", "other"} {
			var key crypto.Signer
			usage := x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment
			if name == "ec" {
				key, _ = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
				usage = x509.KeyUsageDigitalSignature | x509.KeyUsageKeyAgreement
			} else {
				key, err = rsa.GenerateKey(rand.Reader, 2048)
				if err != nil {
					idsErr = err
					return
				}
			}
			tmpl := &x509.Certificate{
				SerialNumber: big.NewInt(int64(100 + i)), Subject: pkix.Name{CommonName: name},
				NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
				KeyUsage: usage, EmailAddresses: []string{name + "@example.test"},
				ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
			}
			der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, key.Public(), caKey)
			if err != nil {
				idsErr = err
				return
			}
			cert, _ := x509.ParseCertificate(der)
			pk, _ := x509.MarshalPKCS8PrivateKey(key)
			id := &testID{cert: cert, key: key,
				certFile: filepath.Join(idsDir, name+".crt"), keyFile: filepath.Join(idsDir, name+".key")}
			os.WriteFile(id.certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
			os.WriteFile(id.keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: pk}), 0o600)
			ids[name] = id
		}
	})
	if idsErr != nil {
		t.Fatalf("make test identities: %v", idsErr)
	}
	return ids
}

func TestMain(m *testing.M) {
	code := m.Run()
	if idsDir != "" {
		os.RemoveAll(idsDir)
	}
	os.Exit(code)
}
