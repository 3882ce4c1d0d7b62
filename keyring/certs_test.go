package keyring

import (
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/testdirs"
	"cloister/mimecrypt/smime"
)

// der returns the DER of the first certificate in PEM.
func der(t testing.TB, p []byte) []byte {
	t.Helper()
	b, _ := pem.Decode(p)
	if b == nil {
		t.Fatal("no PEM block")
	}
	return b.Bytes
}

// TestCertificates adds and captures openssl-made certificates: a leaf for
// email protection, a signing-only one, an expired one (openssl ca with past
// dates), one from an unknown CA, and one revoked by a CRL.
func TestCertificates(t *testing.T) {
	testdirs.Slow(t, "runs openssl for every certificate")
	ca := newPKI(t, "Test CA")
	ann := ca.leaf("ann", "ann@subs.test", "leaf", "", "")
	signOnly := ca.leaf("sig", "sig@subs.test", "signonly", "", "")
	expired := ca.leaf("old", "old@subs.test", "leaf", "200101000000Z", "210101000000Z")
	rev := ca.leaf("rev", "rev@subs.test", "leaf", "", "")
	crl := ca.revokeCert("rev")
	other := newPKI(t, "Other CA").leaf("mal", "mal@subs.test", "leaf", "", "")

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca.read("ca.pem"), 0o644)
	os.Mkdir(filepath.Join(dir, "crl"), 0o755)
	os.WriteFile(filepath.Join(dir, "crl", "ca.crl"), crl, 0o644)
	cfg := &config.Config{SMIMECAFile: filepath.Join(dir, "ca.pem"), SMIMECRLDir: filepath.Join(dir, "crl")}
	roots, err := Roots(cfg)
	if err != nil {
		t.Fatal(err)
	}
	crls, err := CRLs(cfg)
	if err != nil || len(crls) != 1 {
		t.Fatalf("CRLs: %d, %v", len(crls), err)
	}
	k := newKeyring(t)
	k.SetTrust(roots, crls)

	capture := []struct {
		name, addr string
		cert       []byte
		wantErr    error
	}{
		{"good", "ann@subs.test", ann, nil},
		{"good, address case", "Ann@Subs.Test", ann, nil},
		{"other address", "bob@subs.test", ann, ErrNotBound},
		{"signing only", "sig@subs.test", signOnly, smime.ErrKeyUsage},
		{"expired", "old@subs.test", expired, smime.ErrCertExpired},
		{"unknown CA", "mal@subs.test", other, ErrNotTrusted},
		{"revoked", "rev@subs.test", rev, ErrRevoked},
	}
	for _, tt := range capture {
		t.Run("capture "+tt.name, func(t *testing.T) {
			err := k.Capture(tt.addr, der(t, tt.cert))
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("Capture = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if err := k.Capture("x@subs.test", []byte{0x30, 0x03, 0x02, 0x01}); err == nil {
		t.Fatal("garbage DER captured")
	}

	// Added by hand: expired and revoked ones are stored and refused at use.
	if _, err := k.AddCert("sig@subs.test", signOnly, UseEncrypt); !errors.Is(err, smime.ErrKeyUsage) {
		t.Fatalf("signing-only certificate added for encryption: %v", err)
	}
	for _, a := range []struct {
		addr string
		cert []byte
		use  Use
	}{{"sig@subs.test", signOnly, UseSign}, {"old@subs.test", expired, UseBoth}, {"rev@subs.test", rev, UseBoth}} {
		if _, err := k.AddCert(a.addr, a.cert, a.use); err != nil {
			t.Fatalf("add %s: %v", a.addr, err)
		}
	}
	if _, err := k.AddCert("bob@subs.test", ann, UseBoth); !errors.Is(err, ErrNotBound) {
		t.Fatalf("certificate for another address: %v", err)
	}
	lookups := []struct {
		addr    string
		wantErr error
	}{
		{"ann@subs.test", nil},
		{"sig@subs.test", ErrNoKey},
		{"old@subs.test", ErrExpired},
		{"rev@subs.test", ErrRevoked},
		{"nobody@subs.test", ErrNoKey},
	}
	for _, tt := range lookups {
		t.Run("lookup "+tt.addr, func(t *testing.T) {
			c, err := k.EncryptionCert(tt.addr, time.Now())
			if tt.wantErr == nil && err != nil || tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("EncryptionCert = %v, want %v", err, tt.wantErr)
			}
			if err == nil && !strings.EqualFold(smime.Addresses(c)[0], tt.addr) {
				t.Fatalf("certificate for %v", smime.Addresses(c))
			}
		})
	}
	ents, _ := k.Entries(time.Now())
	got := map[string]Entry{}
	for _, e := range ents {
		got[e.Address] = e
	}
	for addr, want := range map[string]State{"ann@subs.test": StateOK, "sig@subs.test": StateOK, "old@subs.test": StateExpired, "rev@subs.test": StateRevoked} {
		if got[addr].State != want {
			t.Errorf("%s: %+v, want state %s", addr, got[addr], want)
		}
	}
	if got["ann@subs.test"].Note != "captured" || got["sig@subs.test"].Note != "sign-only" {
		t.Errorf("notes: %q %q", got["ann@subs.test"].Note, got["sig@subs.test"].Note)
	}
	if _, err := k.Remove("ann@subs.test", got["ann@subs.test"].Fingerprint); err != nil {
		t.Fatal(err)
	}
	if _, err := k.EncryptionCert("ann@subs.test", time.Now()); !errors.Is(err, ErrNoKey) {
		t.Fatalf("after remove: %v", err)
	}
}

// TestTrustFiles reads a CA path directory and refuses a damaged CRL.
func TestTrustFiles(t *testing.T) {
	testdirs.Slow(t, "runs openssl to make trust files")
	ca := newPKI(t, "Path CA")
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "a.pem"), ca.read("ca.pem"), 0o644)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not a certificate"), 0o644)
	pool, err := Roots(&config.Config{SMIMECAPath: dir})
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der(t, ca.leaf("p", "p@subs.test", "leaf", "", "")))
	if _, err := leaf.Verify(x509.VerifyOptions{Roots: pool, KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageAny}}); err != nil {
		t.Fatalf("leaf does not chain to the capath pool: %v", err)
	}
	if _, err := CRLs(&config.Config{SMIMECRLDir: dir}); err == nil {
		t.Fatal("a directory of non-CRLs read as CRLs")
	}
	if _, err := Roots(&config.Config{SMIMECAFile: filepath.Join(dir, "README")}); err == nil {
		t.Fatal("cafile without certificates accepted")
	}
}

// FuzzAddCert checks that no certificate input makes AddCert panic.
func FuzzAddCert(f *testing.F) {
	f.Add([]byte("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"))
	f.Add([]byte{0x30, 0x82, 0x01, 0x00})
	k := newKeyring(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		k.AddCert("fuzz@subs.test", data, UseBoth)
	})
}
