package keyring

import (
	"crypto"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestListSMIME generates a self-signed list certificate, has its CSR
// signed by an openssl CA, imports the signed certificate, and imports
// PKCS#12 and PEM pairs.
func TestListSMIME(t *testing.T) {
	testdirs.Slow(t, "runs openssl against the list certificates")
	SMIMERSABits = 2048
	k := newKeyring(t)
	fpr, err := k.GenerateSMIME("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.GenerateSMIME("team@lists.test"); err == nil {
		t.Fatal("second certificate generated over the first")
	}
	cert, key, chain, err := k.ListKeySMIME("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	if CertFingerprint(cert) != fpr || len(chain) != 0 || !publicKeysEqual(key.Public(), cert.PublicKey) {
		t.Fatalf("list certificate %s, chain %d", CertFingerprint(cert), len(chain))
	}
	sum := sha256.Sum256([]byte("x"))
	if _, err := key.Sign(rand.Reader, sum[:], crypto.SHA256); err != nil {
		t.Fatal(err)
	}
	if cert.EmailAddresses[0] != "team@lists.test" || cert.ExtKeyUsage[0] != x509.ExtKeyUsageEmailProtection {
		t.Fatalf("certificate %v %v", cert.EmailAddresses, cert.ExtKeyUsage)
	}

	// A real CA signs the request; the signed certificate replaces the
	// self-signed one in front of the same key.
	csr, err := k.CSR("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	ca := newPKI(t, "List CA")
	os.WriteFile(filepath.Join(ca.dir, "team.csr"), csr, 0o600)
	ca.openssl("ca", "-batch", "-config", "ca.cnf", "-cert", "ca.pem", "-keyfile", "ca.key", "-in", "team.csr",
		"-out", "team.pem", "-extensions", "leaf", "-days", "30", "-notext")
	signed := append(ca.read("team.pem"), ca.read("ca.pem")...)
	nfpr, err := k.ImportSMIME("team@lists.test", signed, "")
	if err != nil {
		t.Fatal(err)
	}
	cert2, key2, chain2, err := k.ListKeySMIME("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	if nfpr == fpr || CertFingerprint(cert2) != nfpr || len(chain2) != 1 || key2 != key && !publicKeysEqual(key2.Public(), key.Public()) {
		t.Fatalf("after import of the signed certificate: %s chain %d", CertFingerprint(cert2), len(chain2))
	}
	exp, err := k.ExportSMIME("team@lists.test")
	if err != nil || strings.Count(string(exp), "BEGIN CERTIFICATE") != 2 || strings.Contains(string(exp), "PRIVATE") {
		t.Fatalf("export: %v\n%s", err, exp)
	}
	// A certificate for another key does not replace it.
	if _, err := k.ImportSMIME("team@lists.test", ca.leaf("x", "team@lists.test", "leaf", "", ""), ""); err == nil {
		t.Fatal("certificate for another key accepted")
	}

	// PEM pair from openssl, and the corpus PKCS#12 bundle.
	pair := append(ca.leaf("pair", "pair@lists.test", "leaf", "", ""), ca.read("pair.key")...)
	if _, err := k.ImportSMIME("pair@lists.test", pair, ""); err != nil {
		t.Fatal(err)
	}
	ca.leaf("bob", "bob@lists.test", "leaf", "", "")
	ca.openssl("pkcs12", "-export", "-in", "bob.pem", "-inkey", "bob.key", "-certfile", "ca.pem", "-out", "bob.p12", "-passout", "pass:p12pw")
	p12 := ca.read("bob.p12")
	if _, err := k.ImportSMIME("bob@lists.test", p12, "wrong"); err == nil {
		t.Fatal("PKCS#12 opened with a wrong password")
	}
	if _, err := k.ImportSMIME("bob@lists.test", p12, "p12pw"); err != nil {
		t.Fatal(err)
	}
	c, _, ch, err := k.ListKeySMIME("bob@lists.test")
	if err != nil || !strings.EqualFold(c.EmailAddresses[0], "bob@lists.test") || len(ch) != 1 {
		t.Fatalf("bob: %v %v chain %d", err, c.EmailAddresses, len(ch))
	}
	// NSS writes BER inside the bundle, which go-pkcs12 does not read: a
	// clear error (re-export it with openssl pkcs12).
	nss, err := os.ReadFile(filepath.Join(corpusDir(t), "thunderbird-smime", "keys", "Bob.p12"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.ImportSMIME("nss@lists.test", nss, "nss"); err == nil || !strings.Contains(err.Error(), "PKCS#12") {
		t.Fatalf("NSS bundle: %v", err)
	}
	if _, err := k.RemoveListKey("bob@lists.test", KindX509); err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := k.ListKeySMIME("bob@lists.test"); !errors.Is(err, ErrNoListKey) {
		t.Fatalf("after removal: %v", err)
	}
	// PEM holding the key encrypted is refused with a hint.
	enc := pem.EncodeToMemory(&pem.Block{Type: "ENCRYPTED PRIVATE KEY", Bytes: []byte{1}})
	if _, err := k.ImportSMIME("enc@lists.test", append(ca.read("pair.pem"), enc...), ""); err == nil || !strings.Contains(err.Error(), "encrypted PEM") {
		t.Fatalf("encrypted PEM key: %v", err)
	}
}
