package keyring

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/mimecrypt/pgp"
)

// TestGenerateOpenPGP generates a list key, unlocks it from a second
// handle (another process), checks that GnuPG reads the exported public key,
// and that it encrypts and signs.
func TestGenerateOpenPGP(t *testing.T) {
	k := newKeyring(t)
	fpr, err := k.GenerateOpenPGP("Team@Lists.Test", "Team list", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.GenerateOpenPGP("team@lists.test", "", ""); err == nil || !strings.Contains(err.Error(), "revoke it first") {
		t.Fatalf("second generate = %v, want refusal", err)
	}
	other, err := Open(k.Path(), testPassphrase, nil)
	if err != nil {
		t.Fatal(err)
	}
	e, err := other.ListKeyPGP("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	if Fingerprint(e) != fpr || e.PrivateKey == nil || e.PrivateKey.Encrypted {
		t.Fatalf("unlocked key %s (private %v), want %s unlocked", Fingerprint(e), e.PrivateKey != nil, fpr)
	}
	if e.PrimaryKey.Version != 4 || e.PrimaryKey.PubKeyAlgo != packet.PubKeyAlgoEdDSA {
		t.Fatalf("primary key v%d algo %v, want v4 EdDSA", e.PrimaryKey.Version, e.PrimaryKey.PubKeyAlgo)
	}
	if _, _, err := pgp.EncryptionKey(e, time.Now(), nil); err != nil {
		t.Fatalf("no encryption subkey: %v", err)
	}
	if again, _ := other.ListKeyPGP("team@lists.test"); again != e {
		t.Fatal("second ListKeyPGP unlocked again instead of using the cache")
	}
	if _, err := SignOnce(e); err != nil {
		t.Fatal(err)
	}
	wrong, _ := Open(k.Path(), []byte("wrong"), nil)
	if _, err := wrong.ListKeyPGP("team@lists.test"); !errors.Is(err, ErrBadPassphrase) {
		t.Fatalf("wrong passphrase: %v", err)
	}
	if _, err := k.ListKeyPGP("other@lists.test"); !errors.Is(err, ErrNoListKey) {
		t.Fatalf("no key: %v", err)
	}

	armored, err := k.ExportOpenPGP("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(armored, []byte("PRIVATE")) {
		t.Fatal("export holds a private key")
	}
	g := gnupg.New(t)
	g.Run(armored, "--import")
	cols := string(g.Run(nil, "--with-colons", "--list-keys", fpr))
	if !strings.Contains(cols, "pub:-:255:22:") || !strings.Contains(cols, "sub:-:255:18:") || !strings.Contains(cols, "<team@lists.test>") {
		t.Fatalf("gpg listing of the list key:\n%s", cols)
	}
	// The stored record does not hold the secret in clear.
	raw, _ := os.ReadFile(k.Path())
	var sec bytes.Buffer
	e.SerializePrivateWithoutSigning(&sec, nil)
	if bytes.Contains(raw, sec.Bytes()[len(sec.Bytes())-40:]) {
		t.Fatal("secret key bytes found in keyring.db")
	}
}

// SignOnce signs a short text with e, as a runner would.
func SignOnce(e *openpgp.Entity) ([]byte, error) {
	var b bytes.Buffer
	err := openpgp.DetachSign(&b, []*openpgp.Entity{e}, strings.NewReader("hello"), &packet.Config{})
	return b.Bytes(), err
}

// TestGenerateRSA makes an RSA-3072 list key; GnuPG reads it.
func TestGenerateRSA(t *testing.T) {
	testdirs.Slow(t, "makes an RSA-3072 key and subkey, and runs gpg")
	k := newKeyring(t)
	fpr, err := k.GenerateOpenPGP("rsa@lists.test", "RSA list", AlgoRSA3072)
	if err != nil {
		t.Fatal(err)
	}
	e, err := k.ListKeyPGP("rsa@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := e.PrimaryKey.BitLength(); n != 3072 || e.PrimaryKey.PubKeyAlgo != packet.PubKeyAlgoRSA {
		t.Fatalf("primary %v %d bits", e.PrimaryKey.PubKeyAlgo, n)
	}
	if _, err := k.GenerateOpenPGP("x@lists.test", "", "dsa"); err == nil {
		t.Fatal("unknown algorithm accepted")
	}
	armored, _ := k.ExportOpenPGP("rsa@lists.test")
	g := gnupg.New(t)
	g.Run(armored, "--import")
	if cols := string(g.Run(nil, "--with-colons", "--list-keys", fpr)); !strings.Contains(cols, "pub:-:3072:1:") {
		t.Fatalf("gpg listing:\n%s", cols)
	}
}

// TestImportOpenPGPSecret imports a passphrase-protected secret key
// exported by gpg, and a corpus key.
func TestImportOpenPGPSecret(t *testing.T) {
	g := gnupg.New(t)
	g.Passphrase = "gpgpass"
	g.Run(nil, "--quick-gen-key", "List <imp@lists.test>", "ed25519", "sign,cert", "0")
	fpr := g.Fingerprint("imp@lists.test")
	g.Run(nil, "--quick-add-key", fpr, "cv25519", "encr", "0")
	sec := g.Run(nil, "--armor", "--export-secret-keys", fpr)

	k := newKeyring(t)
	if _, err := k.ImportOpenPGPSecret("imp@lists.test", sec, []byte("nope")); err == nil {
		t.Fatal("wrong import passphrase accepted")
	}
	got, err := k.ImportOpenPGPSecret("imp@lists.test", sec, []byte("gpgpass"))
	if err != nil {
		t.Fatal(err)
	}
	if got != fpr {
		t.Fatalf("fingerprint %s, want %s", got, fpr)
	}
	e, err := k.ListKeyPGP("imp@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := SignOnce(e); err != nil {
		t.Fatalf("sign with imported key: %v", err)
	}
	pub := g.Run(nil, "--export", fpr)
	if _, err := k.ImportOpenPGPSecret("pub@lists.test", pub, nil); err == nil || !strings.Contains(err.Error(), "public key") {
		t.Fatalf("public key as list key: %v", err)
	}
	if _, err := k.ImportOpenPGPSecret("bad@lists.test", []byte("-----BEGIN PGP PRIVATE KEY BLOCK-----\n\nAAAA\n"), nil); err == nil {
		t.Fatal("broken armor accepted")
	}

	// A corpus list key (Schleuder's, binary secring).
	corpus := filepath.Join(corpusDir(t), "schleuder", "keys", "list-secring.gpg")
	b, err := os.ReadFile(corpus)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.ImportOpenPGPSecret("schleuder@lists.test", b, nil); err != nil {
		t.Fatalf("import %s: %v", corpus, err)
	}
}

// TestRevokeList revokes the list key: the export carries the revocation
// and GnuPG sees the key revoked; a new key can then be generated.
func TestRevokeList(t *testing.T) {
	testdirs.Slow(t, "runs gpg to read the revocation")
	k := newKeyring(t)
	fpr, err := k.GenerateOpenPGP("rev@lists.test", "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.RevokeList("rev@lists.test"); err != nil {
		t.Fatal(err)
	}
	if _, err := k.RevokeList("rev@lists.test"); err == nil {
		t.Fatal("second revocation accepted")
	}
	e, err := k.ListKeyPGP("rev@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	if !e.Revoked(time.Now()) {
		t.Fatal("unlocked key not revoked")
	}
	armored, _ := k.ExportOpenPGP("rev@lists.test")
	g := gnupg.New(t)
	g.Run(armored, "--import")
	if cols := string(g.Run(nil, "--with-colons", "--list-keys", fpr)); !strings.HasPrefix(strings.SplitN(cols, "\n", 3)[1], "pub:r:") {
		t.Fatalf("gpg does not see the revocation:\n%s", cols)
	}
	ents, _ := k.Entries(time.Now())
	if len(ents) != 1 || ents[0].State != StateRevoked || !ents[0].List {
		t.Fatalf("entries %+v", ents)
	}
	nfpr, err := k.GenerateOpenPGP("rev@lists.test", "", "")
	if err != nil || nfpr == fpr {
		t.Fatalf("new key after revocation: %s %v", nfpr, err)
	}
}
