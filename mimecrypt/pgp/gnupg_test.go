package pgp

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	gpghome "cloister/internal/gnupg"
)

// gnupg is one GnuPG home directory, as one subscriber or sender has: the
// shared test driver (cloister/internal/gnupg) with the helpers these tests
// need to move keys between gpg and Go entities.
type gnupg struct {
	*gpghome.Home
	t    testing.TB
	home string
}

// newGnuPG makes a temporary GNUPGHOME that is removed, its agent stopped,
// when the test ends.
func newGnuPG(t testing.TB) *gnupg {
	t.Helper()
	h := gpghome.New(t)
	return &gnupg{Home: h, t: t, home: h.Dir}
}

// exec runs gpg in batch mode with stdin; a failing gpg fails the test
// unless allowFail.
func (g *gnupg) exec(stdin []byte, allowFail bool, args ...string) (out []byte, status string, err error) {
	g.t.Helper()
	out, status, err = g.Exec(stdin, args...)
	if err != nil && !allowFail {
		g.t.Fatalf("%v\nstatus:\n%s", err, status)
	}
	return out, status, err
}

// run runs gpg and fails the test on error.
func (g *gnupg) run(stdin []byte, args ...string) []byte {
	g.t.Helper()
	out, _, _ := g.exec(stdin, false, args...)
	return out
}

// genKey makes a key for uid: "cv25519" (ed25519 primary, cv25519
// subkey) or "rsa3072", expiring after expire ("0" for never). It returns
// the fingerprint.
func (g *gnupg) genKey(uid, algo, expire string) string {
	g.t.Helper()
	return g.GenKeyExpiring(uid, algo, expire)
}

// fingerprint returns the primary key fingerprint for a user ID.
func (g *gnupg) fingerprint(uid string) string {
	g.t.Helper()
	return g.Fingerprint(uid)
}

// export returns the public key of uid as Go entities.
func (g *gnupg) export(uid string) *openpgp.Entity {
	g.t.Helper()
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(g.run(nil, "--armor", "--export", uid)))
	if err != nil || len(el) != 1 {
		g.t.Fatalf("read exported key %s: %v (%d keys)", uid, err, len(el))
	}
	return el[0]
}

// exportSecret returns the secret key of uid as a Go entity.
func (g *gnupg) exportSecret(uid string) *openpgp.Entity {
	g.t.Helper()
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(g.run(nil, "--armor", "--export-secret-keys", uid)))
	if err != nil || len(el) != 1 {
		g.t.Fatalf("read exported secret key %s: %v", uid, err)
	}
	return el[0]
}

// importKey imports a Go entity's public key.
func (g *gnupg) importKey(e *openpgp.Entity) {
	g.t.Helper()
	var b bytes.Buffer
	w, _ := armor.Encode(&b, "PGP PUBLIC KEY BLOCK", nil)
	if err := e.Serialize(w); err != nil {
		g.t.Fatal(err)
	}
	w.Close()
	g.run(b.Bytes(), "--import")
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
