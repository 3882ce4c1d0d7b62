// Package gnupg drives the real gpg binary for tests: one home directory per
// subscriber or sender, key generation, import and export, and the shapes of
// mail that GnuPG-based clients send. It is test support; nothing in Cloister
// itself runs gpg.
package gnupg

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Home is one GnuPG home directory.
type Home struct {
	t   testing.TB
	Dir string
	// Passphrase protects the secret keys made from now on, and unlocks
	// them (loopback pinentry); empty for none.
	Passphrase string
}

// New makes a temporary GNUPGHOME (a short path: gpg-agent's socket path is
// limited) and stops its agent when the test ends. A missing gpg fails the test.
func New(t testing.TB) *Home {
	t.Helper()
	if _, err := exec.LookPath("gpg"); err != nil {
		t.Fatalf("gpg is required (apt-get install -y gnupg; make test installs it): %v", err)
	}
	dir, err := os.MkdirTemp("", "cgpg")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o700)
	// The agent's default S2K count is calibrated to ~100 ms per use; the
	// minimum keeps tests with protected keys fast.
	if err := os.WriteFile(filepath.Join(dir, "gpg-agent.conf"), []byte("s2k-count 65536\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		exec.Command("gpgconf", "--homedir", dir, "--kill", "all").Run()
		os.RemoveAll(dir)
	})
	return &Home{t: t, Dir: dir}
}

// Exec runs gpg in batch mode and returns stdout and the status lines.
func (h *Home) Exec(stdin []byte, args ...string) (out []byte, status string, err error) {
	sf := filepath.Join(h.Dir, "status")
	all := append([]string{"--homedir", h.Dir, "--batch", "--yes", "--no-tty", "--pinentry-mode", "loopback",
		"--passphrase", h.Passphrase, "--trust-model", "always", "--status-file", sf}, args...)
	cmd := exec.Command("gpg", all...)
	cmd.Stdin = bytes.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	st, _ := os.ReadFile(sf)
	if err != nil {
		err = fmt.Errorf("gpg %s: %v: %s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.Bytes(), string(st), err
}

// Run runs gpg and fails the test on error.
func (h *Home) Run(stdin []byte, args ...string) []byte {
	h.t.Helper()
	out, st, err := h.Exec(stdin, args...)
	if err != nil {
		h.t.Fatalf("%v\nstatus:\n%s", err, st)
	}
	return out
}

// GenKey makes a key for uid ("Name <addr>"): algo "cv25519" (Ed25519 primary
// with a Curve25519 subkey, as gpg's future-default) or "rsa3072" (RSA primary
// with an RSA encryption subkey). It returns the fingerprint.
func (h *Home) GenKey(uid, algo string) string {
	h.t.Helper()
	return h.GenKeyExpiring(uid, algo, "0")
}

// GenKeyExpiring is GenKey with an expiry as gpg takes it ("0" for never,
// "1d", "2y", ...), for the primary key and its encryption subkey.
func (h *Home) GenKeyExpiring(uid, algo, expire string) string {
	h.t.Helper()
	if algo == "rsa3072" {
		h.Run(nil, "--quick-gen-key", uid, "rsa3072", "sign,cert", expire)
	} else {
		h.Run(nil, "--quick-gen-key", uid, "future-default", "default", expire)
	}
	fpr := h.Fingerprint(uid)
	if algo == "rsa3072" {
		h.Run(nil, "--quick-add-key", fpr, "rsa3072", "encr", expire)
	}
	return fpr
}

// Fingerprint returns the fingerprint of the first key matching who.
func (h *Home) Fingerprint(who string) string {
	h.t.Helper()
	out := h.Run(nil, "--with-colons", "--list-keys", who)
	for _, l := range strings.Split(string(out), "\n") {
		if strings.HasPrefix(l, "fpr:") {
			return strings.Split(l, ":")[9]
		}
	}
	h.t.Fatalf("no key for %s", who)
	return ""
}

// ExportPublic returns the armored public key of who.
func (h *Home) ExportPublic(who string) []byte { return h.Run(nil, "--armor", "--export", who) }

// ExportSecret returns the armored secret key of who (no passphrase).
func (h *Home) ExportSecret(who string) []byte {
	return h.Run(nil, "--armor", "--export-secret-keys", who)
}

// Revoke imports the revocation certificate gpg made for the key fpr when
// it made the key (openpgp-revocs.d), revoking it in this home.
func (h *Home) Revoke(fpr string) {
	h.t.Helper()
	rev, err := os.ReadFile(filepath.Join(h.Dir, "openpgp-revocs.d", fpr+".rev"))
	if err != nil {
		h.t.Fatal(err)
	}
	h.Import(bytes.Replace(rev, []byte(":-----BEGIN"), []byte("-----BEGIN"), 1))
}

// Import imports keys.
func (h *Home) Import(keys []byte) { h.Run(keys, "--import") }

// PGPMIMEEncrypted composes a PGP/MIME message as Thunderbird and mutt send
// it: inner (a MIME entity) signed by from's key and encrypted to every
// recipient (RFC 3156 6.2 combined form), inside multipart/encrypted.
func (h *Home) PGPMIMEEncrypted(header string, inner []byte, sign bool, from string, to ...string) []byte {
	h.t.Helper()
	args := []string{"--armor", "--encrypt"}
	if sign {
		args = append(args, "--sign", "--local-user", from)
	}
	for _, r := range to {
		args = append(args, "--recipient", r)
	}
	armored := h.Run(inner, args...)
	const b = "------------enc-boundary-4711"
	var msg bytes.Buffer
	msg.WriteString(header)
	fmt.Fprintf(&msg, "MIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"%s\"\n\n", b)
	fmt.Fprintf(&msg, "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n--%s\nContent-Type: application/pgp-encrypted\nContent-Description: PGP/MIME version identification\n\nVersion: 1\n\n", b)
	fmt.Fprintf(&msg, "--%s\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\nContent-Description: OpenPGP encrypted message\nContent-Disposition: inline; filename=\"encrypted.asc\"\n\n%s\n--%s--\n", b, armored, b)
	return msg.Bytes()
}

// PGPMIMESigned composes a PGP/MIME multipart/signed message: inner (a MIME
// entity with CRLF line endings, as signed) with a detached signature by from.
func (h *Home) PGPMIMESigned(header string, inner []byte, from string) []byte {
	h.t.Helper()
	canon := bytes.ReplaceAll(bytes.ReplaceAll(inner, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	// The signed part ends before the CRLF that precedes the next delimiter.
	canon = bytes.TrimRight(canon, "\r\n")
	sig := h.Run(canon, "--armor", "--detach-sign", "--digest-algo", "SHA256", "--local-user", from)
	const b = "------------sig-boundary-0815"
	var msg bytes.Buffer
	msg.WriteString(header)
	fmt.Fprintf(&msg, "MIME-Version: 1.0\nContent-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=\"%s\"\n\n", b)
	fmt.Fprintf(&msg, "--%s\r\n%s\r\n--%s\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n\r\n%s\r\n--%s--\r\n", b, canon, b, sig, b)
	return msg.Bytes()
}

// Decrypt decrypts an armored or binary OpenPGP message (such as the second
// part of a PGP/MIME message) and returns the plaintext and gpg's status lines.
func (h *Home) Decrypt(data []byte) ([]byte, string, error) {
	return h.Exec(data, "--decrypt")
}
