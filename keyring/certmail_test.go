package keyring

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/testdirs"
)

// TestCertsByMail drives what the key commands by mail do with openssl-made
// certificates: check, set (replacing the others), withdraw, and that a
// withdrawn certificate is neither encrypted to, captured, nor set again.
func TestCertsByMail(t *testing.T) {
	testdirs.Slow(t, "runs openssl for every certificate")
	ca := newPKI(t, "Test CA")
	first := ca.leaf("ann1", "ann@subs.test", "leaf", "", "")
	second := ca.leaf("ann2", "ann@subs.test", "leaf", "", "")
	third := ca.leaf("ann3", "ann@subs.test", "leaf", "", "")
	bobs := ca.leaf("bob", "bob@subs.test", "leaf", "", "")
	stranger := newPKI(t, "Other CA").leaf("mal", "ann@subs.test", "leaf", "", "")

	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "ca.pem"), ca.read("ca.pem"), 0o644)
	roots, err := Roots(&config.Config{SMIMECAFile: filepath.Join(dir, "ca.pem")})
	if err != nil {
		t.Fatal(err)
	}
	k := newKeyring(t)
	k.SetTrust(roots, nil)
	now := time.Now()

	checks := []struct {
		name, addr string
		cert       []byte
		want       error
	}{
		{"trusted", "ann@subs.test", first, nil},
		{"another address", "ann@subs.test", bobs, ErrNotBound},
		{"unknown CA", "ann@subs.test", stranger, ErrNotTrusted},
	}
	for _, tt := range checks {
		t.Run("check "+tt.name, func(t *testing.T) {
			_, err := k.CheckCert(tt.addr, der(t, tt.cert))
			if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
				t.Fatalf("CheckCert = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := k.SetCert("ann@subs.test", der(t, stranger), true); !errors.Is(err, ErrNotTrusted) {
		t.Fatalf("SetCert of an untrusted certificate by a subscriber = %v", err)
	}

	f1, err := k.SetCert("ann@subs.test", der(t, first), true)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := k.SubscriberCerts("ann@subs.test", now); !slices.Equal(got, []string{f1}) {
		t.Fatalf("after set: %v, want [%s]", got, f1)
	}
	f2, err := k.SetCert("ann@subs.test", der(t, second), true)
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := k.SubscriberCerts("ann@subs.test", now); !slices.Equal(got, []string{f2}) {
		t.Fatalf("after change: %v, want only [%s]", got, f2)
	}
	// An owner's word binds a certificate of an unknown CA.
	if _, err := k.SetCert("ann@subs.test", der(t, stranger), false); err != nil {
		t.Fatalf("SetCert by an owner: %v", err)
	}
	if _, err := k.SetCert("ann@subs.test", der(t, second), true); err != nil {
		t.Fatal(err)
	}

	if _, err := k.WithdrawCert("bob@subs.test", der(t, second)); !errors.Is(err, ErrNotBound) {
		t.Fatalf("withdraw by another address = %v", err)
	}
	w, err := k.WithdrawCert("ann@subs.test", der(t, second))
	if err != nil || w != f2 {
		t.Fatalf("WithdrawCert = %s, %v", w, err)
	}
	if !k.CertWithdrawn(f2) || k.CertWithdrawn(f1) {
		t.Fatal("CertWithdrawn does not say which certificate was withdrawn")
	}
	if _, err := k.EncryptionCert("ann@subs.test", now); !errors.Is(err, ErrRevoked) {
		t.Fatalf("EncryptionCert after withdrawal = %v, want ErrRevoked", err)
	}
	if got, _ := k.SubscriberCerts("ann@subs.test", now); len(got) != 0 {
		t.Fatalf("withdrawn certificate still listed: %v", got)
	}
	if err := k.Capture("ann@subs.test", der(t, second)); !errors.Is(err, ErrRevoked) {
		t.Fatalf("withdrawn certificate captured again: %v", err)
	}
	if _, err := k.SetCert("ann@subs.test", der(t, second), true); !errors.Is(err, ErrRevoked) {
		t.Fatalf("withdrawn certificate set again: %v", err)
	}
	if _, err := k.CheckCert("ann@subs.test", der(t, second)); !errors.Is(err, ErrRevoked) {
		t.Fatalf("CheckCert of a withdrawn certificate = %v", err)
	}
	ents, _ := k.Entries(now)
	seen := false
	for _, e := range ents {
		if e.Fingerprint == f2 {
			seen = e.State == StateRevoked && e.Note == "withdrawn"
		}
	}
	if !seen {
		t.Fatalf("Entries do not show the withdrawal: %+v", ents)
	}

	// A certificate never on file can be withdrawn ahead (a lost one): it
	// is not captured afterwards.
	f3, err := k.WithdrawCert("ann@subs.test", der(t, third))
	if err != nil || !k.CertWithdrawn(f3) {
		t.Fatalf("withdraw ahead: %v", err)
	}
	if err := k.Capture("ann@subs.test", der(t, third)); !errors.Is(err, ErrRevoked) {
		t.Fatalf("certificate withdrawn ahead was captured: %v", err)
	}
	// A new certificate is taken again.
	if _, err := k.SetCert("ann@subs.test", der(t, first), true); err != nil {
		t.Fatalf("set after withdrawal: %v", err)
	}
	if c, err := k.EncryptionCert("ann@subs.test", now); err != nil || CertFingerprint(c) != f1 {
		t.Fatalf("EncryptionCert after a new set: %v", err)
	}
}
