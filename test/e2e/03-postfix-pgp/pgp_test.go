// Package pgplist is the end-to-end suite of an OpenPGP list with a real
// Postfix and real GnuPG on every side:
//
//	gpg (member) composes -> sendmail -> Postfix -> pipe(8) -> deliver -> queue/in
//	  -> incoming: decrypt with the list key, verify the member's signature, seal
//	  -> rules (send.private_pgp) -> pipeline -> outgoing: sign once, encrypt once,
//	     one copy per member with only that member's key packet -> Postfix
//	  -> Maildir -> gpg (each member, own key only) decrypts and verifies the list
//
// Members' keys are made by gpg (Curve25519 and RSA-3072); the list key is made
// by `cloister key generate` and exported with `cloister key export`.
package pgplist

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/test/e2e/harness"
)

const domain = "lists.example.test"

func armored(t *testing.T, msg []byte) []byte {
	t.Helper()
	i := bytes.Index(msg, []byte("-----BEGIN PGP MESSAGE-----"))
	j := bytes.Index(msg, []byte("-----END PGP MESSAGE-----"))
	if i < 0 || j < i {
		t.Fatalf("no armored OpenPGP message in:\n%s", msg)
	}
	return msg[i : j+len("-----END PGP MESSAGE-----")]
}

func TestPostfixPGPList(t *testing.T) {
	harness.RequireRoot(t, "postfix", "postconf", "postmap", "sendmail", "gpg")
	dir := harness.WorkDir(t)
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	port := harness.FreePort(t)
	state := filepath.Join(dir, "state")
	cfgPath := filepath.Join(state, "cloister.toml")
	cl := func(args ...string) string {
		return harness.Run(t, []string{"CLOISTER_CONFIG=" + cfgPath}, bins.Cloister, args...)
	}
	harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", domain, "--smtp", "127.0.0.1:"+strconv.Itoa(port))
	cl("list", "create", "team", "--owner", "carol@subs.test", "--description", "Encrypted team")
	for _, s := range [][2]string{{"pgp_post_encrypt", "yes"}, {"pgp_distrib_encrypt", "yes"}, {"pgp_distrib_sign", "yes"}, {"send", "send.private_pgp"}} {
		cl("list", "set", "team", s[0], s[1])
	}
	cl("key", "generate", "team", "--pgp")
	listKey := []byte(cl("key", "export", "team"))

	homes := map[string]*gnupg.Home{}
	for addr, algo := range map[string]string{"carol@subs.test": "cv25519", "dave@subs.test": "cv25519", "erin@subs.test": "rsa3072"} {
		h := gnupg.New(t)
		h.GenKey(strings.Split(addr, "@")[0]+" <"+addr+">", algo)
		h.Import(listKey)
		pub := filepath.Join(dir, addr+".asc")
		os.WriteFile(pub, h.ExportPublic(addr), 0o644)
		if addr != "carol@subs.test" {
			cl("member", "add", "team", addr)
		}
		cl("key", "add", addr, pub)
		homes[addr] = h
	}
	cl("member", "add", "team", "frank@subs.test") // no key
	aliases := cl("aliases", "--mta", "postfix", "--style", "transport", "--deliver", bins.Deliver)
	harness.Run(t, nil, "chown", "-R", "cloister:", state)
	pf := harness.StartPostfix(t, dir, harness.Config{
		ListDomain: domain, Aliases: aliases, Port: port,
		Mailboxes: []string{"carol@subs.test", "dave@subs.test", "erin@subs.test", "frank@subs.test"},
	})
	harness.StartRunners(t, bins.Cloister, cfgPath, dir)
	waitMail := func(t *testing.T, addr string, n int) [][]byte { return harness.WaitMail(t, pf.Mailbox, addr, n) }
	// Each key bound by cloister key add is announced to its address and to
	// the owner carol (never to carol about her own): those come first, and
	// the posts' copies are counted after them.
	announced := map[string]int{"carol@subs.test": 3, "dave@subs.test": 1, "erin@subs.test": 1, "frank@subs.test": 0}
	for addr, n := range announced {
		for _, m := range waitMail(t, addr, n) {
			if !bytes.Contains(m, []byte("Subject: The key for ")) && !bytes.Contains(m, []byte("Subject: Key changed: ")) {
				t.Fatalf("%s: a mail before the posts is not a key announcement:\n%s", addr, m)
			}
		}
	}
	// checkCopies waits for the nth message of every member and finds, among
	// what each member's own gpg can decrypt, the copy carrying marker; the
	// list's signature must verify on it. Frank, without a key, must have a
	// notice and no plaintext.
	checkCopies := func(t *testing.T, n int, marker string, wantSender bool) {
		t.Helper()
		copies := map[string][]byte{}
		for _, addr := range []string{"carol@subs.test", "dave@subs.test", "erin@subs.test"} {
			for _, got := range waitMail(t, addr, announced[addr]+n) {
				if bytes.Contains(got, []byte(marker)) {
					t.Fatalf("%s's copy is in clear:\n%s", addr, got)
				}
				if !bytes.Contains(got, []byte("-----BEGIN PGP MESSAGE-----")) {
					continue
				}
				block := armored(t, got)
				pt, status, err := homes[addr].Decrypt(block)
				if err != nil {
					t.Fatalf("%s cannot decrypt its copy: %v\n%s", addr, err, status)
				}
				if !bytes.Contains(pt, []byte(marker)) {
					continue
				}
				copies[addr] = block
				if !strings.Contains(status, "GOODSIG") || !strings.Contains(status, "team@"+domain) {
					t.Fatalf("%s: list signature not verified:\n%s", addr, status)
				}
				if wantSender && !bytes.Contains(pt, []byte("application/pgp-signature")) {
					t.Fatalf("%s: the sender's signature was not kept:\n%s", addr, pt)
				}
			}
			if copies[addr] == nil {
				t.Fatalf("%s has no copy carrying %s", addr, marker)
			}
		}
		if _, _, err := homes["carol@subs.test"].Decrypt(copies["dave@subs.test"]); err == nil {
			t.Fatal("carol decrypted dave's copy")
		}
		notices := waitMail(t, "frank@subs.test", n)
		for _, m := range notices {
			if bytes.Contains(m, []byte(marker)) || !bytes.Contains(m, []byte("could not be sent to you")) {
				t.Fatalf("frank's notice:\n%s", m)
			}
		}
	}

	t.Run("PGP/MIME signed and encrypted (combined)", func(t *testing.T) {
		const marker = "COMBINED-MARKER-1"
		post := homes["dave@subs.test"].PGPMIMEEncrypted("From: dave <dave@subs.test>\nTo: team@"+domain+"\nSubject: Plans\n",
			[]byte("Content-Type: text/plain; charset=utf-8\n\nMeet at the usual place. "+marker+"\n"), true, "dave@subs.test", "team@"+domain)
		pf.Sendmail(t, "dave@subs.test", post, "team@"+domain)
		checkCopies(t, 1, marker, false)
	})

	t.Run("PGP/MIME signed then encrypted (layered, as Thunderbird)", func(t *testing.T) {
		const marker = "LAYERED-MARKER-2"
		signed := homes["erin@subs.test"].PGPMIMESigned("", []byte("Content-Type: text/plain; charset=utf-8\n\nThe draft is attached. "+marker+"\n"), "erin@subs.test")
		post := homes["erin@subs.test"].PGPMIMEEncrypted("From: erin <erin@subs.test>\nTo: team@"+domain+"\nSubject: Draft\n", signed, false, "", "team@"+domain)
		pf.Sendmail(t, "erin@subs.test", post, "team@"+domain)
		checkCopies(t, 2, marker, true)
	})

	t.Run("mutt composes a signed and encrypted post in its compose menu", func(t *testing.T) {
		const marker = "MUTT-MARKER-3"
		dave := homes["dave@subs.test"]
		dave.Run(nil, "--quick-lsign-key", dave.Fingerprint("team@"+domain))
		harness.MuttSend(t, dave.Dir, "/usr/sbin/sendmail -C "+pf.ConfDir()+" -oi", "Dave <dave@subs.test>", "team@"+domain,
			"From mutt", "Written in mutt. "+marker+"\n",
			"set crypt_autosign=yes", "set crypt_autoencrypt=yes", `set pgp_sign_as="dave@subs.test"`)
		checkCopies(t, 3, marker, false)
	})

	t.Run("unsigned plaintext post is rejected by send.private_pgp", func(t *testing.T) {
		pf.Sendmail(t, "dave@subs.test", []byte("From: dave@subs.test\nTo: team@"+domain+"\nSubject: oops\n\nPLAIN-MARKER\n"), "team@"+domain)
		// Dave has a key on file: the rejection comes signed by the list and
		// encrypted to him.
		harness.Wait(t, 60*time.Second, "the rejection", func() bool {
			for _, m := range pf.Mailbox("dave@subs.test") {
				if !bytes.Contains(m, []byte("-----BEGIN PGP MESSAGE-----")) {
					continue
				}
				pt, _, err := homes["dave@subs.test"].Decrypt(armored(t, m))
				if err == nil && bytes.Contains(pt, []byte("sign their posts")) && !bytes.Contains(pt, []byte("PLAIN-MARKER")) {
					return true
				}
			}
			return false
		})
		for _, m := range pf.Mailbox("erin@subs.test") {
			if bytes.Contains(m, []byte("PLAIN-MARKER")) {
				t.Fatal("the unsigned post was distributed")
			}
		}
	})
}
