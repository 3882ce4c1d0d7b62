package keyring

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
)

// writeChecks writes a checks file for k authenticated with key.
func writeChecks(t *testing.T, k *Keyring, key []byte, f checksFile) {
	t.Helper()
	body, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	h := hmac.New(sha256.New, key)
	h.Write(body)
	if err := os.WriteFile(k.checksPath(), append(h.Sum(nil), body...), 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestChecksKeptAcrossProcesses: the signature checks one keyring handle
// saved are taken, instead of verifying again, by a new handle (a new
// process) for the very same record bytes and only then: a file forged
// without the passphrase, marks for other bytes, and a record changed by a
// revocation are verified again.
func TestChecksKeptAcrossProcesses(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKey("Lou <lou@subs.test>", "cv25519")
	k := newKeyring(t)
	if _, err := k.AddOpenPGP("lou@subs.test", g.ExportPublic(fpr), false); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := k.EncryptionKeyPGP("lou@subs.test", now); err != nil {
		t.Fatal(err)
	}
	if err := k.SaveChecks(); err != nil {
		t.Fatal(err)
	}
	saved := k.readChecks()
	good, ok := saved[fpr]
	if !ok || !strings.Contains(good.Marks, "1") || strings.Contains(good.Marks, "0") {
		t.Fatalf("saved checks %v, want valid marks for %s", saved, fpr)
	}
	// Marks saying every signature is invalid: a handle that takes them
	// (instead of verifying) finds no valid self-signature.
	bad := checkMark{Sum: good.Sum, Marks: strings.Repeat("0", len(good.Marks))}
	otherSum := sha256.Sum256([]byte("other bytes"))
	for _, tt := range []struct {
		name    string
		key     []byte
		mark    checkMark
		invalid bool // the forged marks are taken
	}{
		{"marks for the record, authenticated", k.checksKey(), bad, true},
		{"file written without the passphrase", sha256.New().Sum(nil), bad, false},
		{"marks for other bytes", k.checksKey(), checkMark{Sum: otherSum[:], Marks: bad.Marks}, false},
		{"marks that do not fit the key", k.checksKey(), checkMark{Sum: good.Sum, Marks: "0"}, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			writeChecks(t, k, tt.key, checksFile{Version: checksVersion, Keys: map[string]checkMark{fpr: tt.mark}})
			fresh, err := Open(k.Path(), testPassphrase, nil)
			if err != nil {
				t.Fatal(err)
			}
			_, err = fresh.EncryptionKeyPGP("lou@subs.test", now)
			if got := err != nil; got != tt.invalid {
				t.Fatalf("lookup err = %v, want the forged marks taken %v", err, tt.invalid)
			}
		})
	}

	// The saved, true marks; then a revocation changes the record.
	writeChecks(t, k, k.checksKey(), checksFile{Version: checksVersion, Keys: saved})
	g.Revoke(fpr)
	if _, err := k.AddOpenPGP("lou@subs.test", g.ExportPublic(fpr), false); err != nil {
		t.Fatal(err)
	}
	fresh, err := Open(k.Path(), testPassphrase, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.EncryptionKeyPGP("lou@subs.test", now); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after the revocation: %v, want revoked", err)
	}
}

// TestChecksNeedThePassphrase: a handle without the keyring passphrase
// writes no checks file.
func TestChecksNeedThePassphrase(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKey("Max <max@subs.test>", "cv25519")
	k := newKeyring(t)
	if _, err := k.AddOpenPGP("max@subs.test", g.ExportPublic(fpr), false); err != nil {
		t.Fatal(err)
	}
	pub, err := Open(k.Path(), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pub.EncryptionKeyPGP("max@subs.test", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := pub.SaveChecks(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(pub.checksPath()); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("checks file written without the passphrase: %v", err)
	}
}
