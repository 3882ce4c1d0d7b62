package runners

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"cloister/internal/gnupg"
)

// fixtureKeys holds the keys fixtureKey made, by user ID and algorithm:
// each is generated once per test binary and imported into every later
// home that asks for it.
var fixtureKeys = struct {
	sync.Mutex
	m map[string]fixtureKeyFiles
}{m: map[string]fixtureKeyFiles{}}

// fixtureKeyFiles is one generated key as gpg left it: the fingerprint,
// the secret key export and the revocation certificate it wrote.
type fixtureKeyFiles struct {
	fpr, rev string
	secret   []byte
}

// fixtureKey gives the home h a key for uid, as h.GenKey(uid, algo) does,
// and returns its fingerprint; the first call of the test binary generates
// it, later calls import the same key with its revocation certificate
// (openpgp-revocs.d), so h.Revoke works as on a generated key. An RSA-3072
// pair costs gpg seconds on a loaded machine, an import a few tens of
// milliseconds. For the site helpers, whose tests want a key per person,
// not a key of their own; a test that needs a key no other test has calls
// GenKey.
func fixtureKey(t *testing.T, h *gnupg.Home, uid, algo string) string {
	t.Helper()
	fixtureKeys.Lock()
	defer fixtureKeys.Unlock()
	id := uid + "\x00" + algo
	k, ok := fixtureKeys.m[id]
	if !ok {
		fpr := h.GenKey(uid, algo)
		rev, err := os.ReadFile(filepath.Join(h.Dir, "openpgp-revocs.d", fpr+".rev"))
		if err != nil {
			t.Fatalf("fixture key %s: %v", uid, err)
		}
		fixtureKeys.m[id] = fixtureKeyFiles{fpr: fpr, rev: string(rev), secret: h.ExportSecret(fpr)}
		return fpr
	}
	h.Import(k.secret)
	// Ultimate trust, as gpg gives the keys it generates (and a trustdb,
	// which importing a revocation certificate needs).
	h.Run([]byte(k.fpr+":6:\n"), "--trust-model", "pgp", "--import-ownertrust")
	dir := filepath.Join(h.Dir, "openpgp-revocs.d")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("fixture key %s: %v", uid, err)
	}
	if err := os.WriteFile(filepath.Join(dir, k.fpr+".rev"), []byte(k.rev), 0o600); err != nil {
		t.Fatalf("fixture key %s: %v", uid, err)
	}
	return k.fpr
}

// TestFixtureKeyImportsTheSameKey: a second home asking for a fixture key
// gets the first one's key, secret part included (it decrypts what was
// encrypted to the first), and can revoke it.
func TestFixtureKeyImportsTheSameKey(t *testing.T) {
	first, second := gnupg.New(t), gnupg.New(t)
	uid := "fixture <fixture@subs.test>"
	fpr := fixtureKey(t, first, uid, "cv25519")
	if got := fixtureKey(t, second, uid, "cv25519"); got != fpr {
		t.Fatalf("second home got %s, want %s", got, fpr)
	}
	if got := second.Fingerprint("fixture@subs.test"); got != fpr {
		t.Fatalf("second home holds %s, want %s", got, fpr)
	}
	sealed := first.Run([]byte("hello\n"), "--armor", "--encrypt", "--recipient", fpr)
	if pt, _, err := second.Decrypt(sealed); err != nil || string(pt) != "hello\n" {
		t.Fatalf("second home decrypts %q, %v", pt, err)
	}
	second.Revoke(fpr)
	out := second.Run(nil, "--with-colons", "--list-keys", fpr)
	if !strings.Contains("\n"+string(out), "\npub:r:") {
		t.Fatalf("key not revoked in the second home:\n%s", out)
	}
}
