package main

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/bench/benchsite"
	"cloister/internal/config"
	"cloister/internal/seal"
	"cloister/internal/site"
	"cloister/keyring"
)

// gpgKeys returns n subscribers' armored public keys, made by gpg in one
// batch run the first time and cached in path.
func gpgKeys(path string, n int) []byte {
	if b, err := os.ReadFile(path); err == nil {
		if el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(b)); err == nil && len(el) == n {
			return b
		}
	}
	home, err := os.MkdirTemp("", "cloister-faults-gnupg-")
	check(err)
	defer os.RemoveAll(home)
	var params strings.Builder
	for i := range n {
		fmt.Fprintf(&params, "%%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nKey-Usage: sign\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\nSubkey-Usage: encrypt\nName-Real: Subscriber %d\nName-Email: %s\nExpire-Date: 0\n%%commit\n", i, benchsite.Member(i))
	}
	t0 := time.Now()
	gen := exec.Command("gpg", "--homedir", home, "--batch", "--gen-key")
	gen.Stdin = strings.NewReader(params.String())
	if out, err := gen.CombinedOutput(); err != nil {
		fail("gpg --gen-key: %v\n%s", err, out)
	}
	exp := exec.Command("gpg", "--homedir", home, "--batch", "--armor", "--export")
	out, err := exp.Output()
	check(err)
	check(os.WriteFile(path, out, 0o600))
	fmt.Printf("made %d subscriber keys with gpg in %.1fs (cached in %s)\n", n, time.Since(t0).Seconds(), path)
	return out
}

// setup writes the site's config and secrets under dir and creates the list
// with its members (and, with keys, the list key and the members' keys).
func setup(dir, smtpAddr string, n int, armored []byte) string {
	state, secrets := filepath.Join(dir, "state"), filepath.Join(dir, "secrets")
	for _, d := range []string{state, secrets} {
		check(os.MkdirAll(d, 0o700))
	}
	check(seal.Generate(filepath.Join(secrets, "queue-key")))
	check(os.WriteFile(filepath.Join(secrets, "keyring-passphrase"), []byte("bench passphrase, not for real use\n"), 0o600))
	cfgPath := filepath.Join(state, "cloister.toml")
	text := config.Sample(state, domain, smtpAddr) + fmt.Sprintf("keyring_passphrase_file = %q\nqueue_key_file = %q\n",
		filepath.Join(secrets, "keyring-passphrase"), filepath.Join(secrets, "queue-key"))
	check(os.WriteFile(cfgPath, []byte(text), 0o640))
	cfg, err := config.Load(cfgPath)
	check(err)
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	check(err)
	settings := map[string]string{"send": "send.private"}
	if armored != nil {
		k, err := keyring.OpenSite(cfg)
		check(err)
		_, err = k.GenerateOpenPGP(list, "team", keyring.AlgoCurve25519)
		check(err)
		el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(armored))
		check(err)
		for _, e := range el {
			var pub bytes.Buffer
			check(e.Serialize(&pub))
			addr := ""
			for _, id := range e.Identities {
				addr = id.UserId.Email
			}
			_, err := k.AddOpenPGP(addr, pub.Bytes(), false)
			check(err)
		}
		k.Close()
		settings["pgp_distrib_encrypt"] = "force"
		settings["pgp_distrib_sign"] = "yes"
	}
	check(benchsite.MakeList(s, list, settings, n))
	return cfgPath
}
