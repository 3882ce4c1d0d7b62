// Command demo runs Cloister's main job on an embedded default: a throw-away
// site with an OpenPGP list and three members whose keys are made by the real
// gpg; a member's gpg signs and encrypts a post to the list's key; the post is
// piped through the built deliver binary and every runner (decrypted, its
// signature checked and bound to the sender, sealed at rest, signed once by
// the list and encrypted to each member); an in-process SMTP sink stands in
// for the MTA; and each member's gpg decrypts that member's copy and checks
// the list's signature. `make demo` runs it.
package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"cloister/internal/config"
	"cloister/internal/seal"
	"cloister/internal/site"
	"cloister/internal/smtpsink"
	"cloister/keyring"
	"cloister/lists"
	"cloister/runners"
)

const (
	domain    = "lists.example.test"
	list      = "team@" + domain
	smimeList = "board@" + domain
)

var members = []struct {
	addr, name string
	roles      []lists.Role
}{
	{"ann@members.test", "Ann", []lists.Role{lists.RoleOwner, lists.RoleModerator, lists.RoleMember}},
	{"bob@members.test", "Bob", []lists.Role{lists.RoleMember}},
	{"cat@members.test", "Cat", []lists.Role{lists.RoleMember}},
}

const inner = `Content-Type: text/plain; charset=utf-8

Hello team,

the notes of Thursday's meeting:
 - budget approved
 - next meeting on the 3rd, in the back room

Bob
`

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func step(format string, a ...any) { fmt.Printf("\n==> "+format+"\n", a...) }

func run() error {
	dir, err := os.MkdirTemp("", "cloister-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	step("building deliver")
	deliver := filepath.Join(dir, "deliver")
	if out, err := exec.Command("go", "build", "-o", deliver, "./cmd/deliver").CombinedOutput(); err != nil {
		return fmt.Errorf("build deliver: %v\n%s", err, out)
	}
	sink, err := smtpsink.Start(filepath.Join(dir, "mailboxes"))
	if err != nil {
		return err
	}
	defer sink.Close()
	step("an SMTP sink stands in for the MTA on %s", sink.Addr)

	ca, err := newCA(filepath.Join(dir, "ca"))
	if err != nil {
		return err
	}
	s, cfgPath, err := newSite(dir, sink.Addr, ca.cert)
	if err != nil {
		return err
	}
	k := s.Keyring

	step("list %s: an OpenPGP key made by Cloister, posts and copies encrypted and signed", list)
	fpr, err := k.GenerateOpenPGP(list, "team", keyring.AlgoCurve25519)
	if err != nil {
		return err
	}
	fmt.Printf("    list key %s (Ed25519 + Curve25519)\n", fpr)
	listPub, err := k.ExportOpenPGP(list)
	if err != nil {
		return err
	}
	homes := map[string]*gpgHome{}
	for _, m := range members {
		h, err := newGPGHome(dir, m.name)
		if err != nil {
			return err
		}
		defer h.stop()
		uid := m.name + " <" + m.addr + ">"
		if _, _, err := h.run(nil, "--quick-gen-key", uid, "future-default", "default", "0"); err != nil {
			return err
		}
		if _, _, err := h.run(listPub, "--import"); err != nil {
			return err
		}
		pub, _, err := h.run(nil, "--armor", "--export", m.addr)
		if err != nil {
			return err
		}
		mfpr, err := k.AddOpenPGP(m.addr, pub, false)
		if err != nil {
			return err
		}
		homes[m.addr] = h
		fmt.Printf("    %-18s %-26s key %s (made by gpg)\n", m.addr, rolesText(m.roles), mfpr)
	}

	step("Bob's gpg signs the post and encrypts it to the list key (PGP/MIME, as Thunderbird and mutt send)")
	armored, _, err := homes["bob@members.test"].run([]byte(inner), "--armor", "--encrypt", "--sign",
		"--local-user", "bob@members.test", "--recipient", list)
	if err != nil {
		return err
	}
	post := pgpMIME("From: Bob <bob@members.test>\nTo: "+list+"\nSubject: Meeting notes\nMessage-ID: <notes-1@members.test>\nDate: Wed, 25 Nov 2026 09:00:00 +0000\n", armored)
	fmt.Print(indent(abbreviate(string(post))))

	step("piping it into deliver, as Postfix would")
	cmd := exec.Command(deliver, list)
	cmd.Env = append(os.Environ(), "CLOISTER_CONFIG="+cfgPath, "SENDER=bob@members.test")
	cmd.Stdin = bytes.NewReader(post)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	fmt.Println("    deliver exited 0: the post is in queue/in")

	step("running every runner until the queues are empty")
	logs := capture
	if err := runners.Drain(context.Background(), s); err != nil {
		return err
	}
	for _, line := range logs.lines() {
		fmt.Println("    " + line)
	}

	for _, m := range members {
		box, err := sink.Mailbox(m.addr)
		if err != nil {
			return err
		}
		if len(box) != 1 {
			return fmt.Errorf("%s received %d messages, want 1", m.addr, len(box))
		}
		step("%s received (as it travelled):", m.addr)
		fmt.Print(indent(abbreviate(string(box[0]))))
		i := bytes.Index(box[0], []byte("-----BEGIN PGP MESSAGE-----"))
		j := bytes.Index(box[0], []byte("-----END PGP MESSAGE-----"))
		if i < 0 || j < i {
			return fmt.Errorf("%s's copy is not encrypted", m.addr)
		}
		pt, status, err := homes[m.addr].run(box[0][i:j+25], "--decrypt")
		if err != nil {
			return fmt.Errorf("%s cannot decrypt: %v", m.addr, err)
		}
		step("%s's gpg decrypts it with %s's own key: %s; list signature: %s", m.addr, m.name,
			orNone(statusLine(status, "DECRYPTION_OKAY")), orNone(statusLine(status, "GOODSIG")))
		fmt.Print(indent(string(pt)))
		if statusLine(status, "GOODSIG") == "" {
			return fmt.Errorf("%s: the list signature did not verify", m.addr)
		}
	}
	if err := runSMIME(s, k, ca, deliver, cfgPath, sink, dir); err != nil {
		return err
	}
	if err := runSubscribe(s, deliver, cfgPath, sink); err != nil {
		return err
	}
	fmt.Println()
	return nil
}

// newSite makes the demo's site: config, secrets, list store, keyring.
func newSite(dir, smtpAddr, caFile string) (*site.Site, string, error) {
	state := filepath.Join(dir, "state")
	secrets := filepath.Join(dir, "secrets")
	for _, d := range []string{state, secrets} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, "", err
		}
	}
	if err := seal.Generate(filepath.Join(secrets, "queue-key")); err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(filepath.Join(secrets, "keyring-passphrase"), []byte("demo passphrase, not for real use\n"), 0o600); err != nil {
		return nil, "", err
	}
	cfgPath := filepath.Join(state, "cloister.toml")
	text := config.Sample(state, domain, smtpAddr) + fmt.Sprintf("keyring_passphrase_file = %q\nqueue_key_file = %q\nsmime_cafile = %q\n",
		filepath.Join(secrets, "keyring-passphrase"), filepath.Join(secrets, "queue-key"), caFile)
	if err := os.WriteFile(cfgPath, []byte(text), 0o640); err != nil {
		return nil, "", err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return nil, "", err
	}
	s, err := site.Open(cfg, slog.New(capture))
	if err != nil {
		return nil, "", err
	}
	k, err := keyring.OpenSite(cfg)
	if err != nil {
		return nil, "", err
	}
	s.SetKeyring(k)
	err = s.Lists.Update(func(tx *lists.Tx) error {
		for _, spec := range []struct {
			addr, desc string
			settings   map[string]string
		}{
			{list, "Demo team (OpenPGP)", map[string]string{"pgp_post_encrypt": "yes", "pgp_distrib_encrypt": "yes", "pgp_distrib_sign": "yes", "send": "send.private_pgp"}},
			{smimeList, "Demo board (S/MIME)", map[string]string{"smime_post_encrypt": "yes", "smime_distrib_encrypt": "yes", "smime_distrib_sign": "yes", "send": "send.private_smime"}},
		} {
			l, err := lists.NewList(spec.addr, time.Now())
			if err != nil {
				return err
			}
			l.Description = spec.desc
			for name, v := range spec.settings {
				if err := l.Settings.Set(name, v); err != nil {
					return err
				}
			}
			if err := tx.CreateList(l); err != nil {
				return err
			}
			for _, m := range members {
				if err := tx.AddMember(spec.addr, &lists.Member{Address: m.addr, Name: m.name, Roles: m.roles}); err != nil {
					return err
				}
			}
		}
		return nil
	})
	return s, cfgPath, err
}

func pgpMIME(header string, armored []byte) []byte {
	const b = "------------demo-boundary"
	return []byte(header + "MIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"" + b + "\"\n\n" +
		"--" + b + "\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--" + b + "\nContent-Type: application/octet-stream; name=\"encrypted.asc\"\n\n" +
		string(armored) + "\n--" + b + "--\n")
}

// abbreviate shortens armored blocks and long runs of base64 lines.
func abbreviate(msg string) string {
	var out []string
	lines := strings.Split(msg, "\n")
	for i := 0; i < len(lines); i++ {
		if isBase64Line(lines[i]) {
			j := i
			for j < len(lines) && isBase64Line(lines[j]) {
				j++
			}
			if j-i > 3 {
				out = append(out, lines[i], fmt.Sprintf("[... %d more lines of base64 ...]", j-i-1))
				i = j - 1
				continue
			}
		}
		out = append(out, lines[i])
		if strings.HasPrefix(lines[i], "-----BEGIN PGP") {
			j := i + 1
			for j < len(lines) && !strings.HasPrefix(lines[j], "-----END PGP") {
				j++
			}
			if j-i > 4 {
				out = append(out, lines[i+1], fmt.Sprintf("[... %d more lines of ciphertext ...]", j-i-2))
				i = j - 1
			}
		}
	}
	return strings.Join(out, "\n")
}

func isBase64Line(l string) bool {
	l = strings.TrimRight(l, "\r")
	if len(l) < 60 {
		return false
	}
	for _, c := range l {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' || c == '=') {
			return false
		}
	}
	return true
}

func rolesText(rs []lists.Role) string {
	var s []string
	for _, r := range rs {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("    | " + l)
		}
	}
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteString("\n")
	}
	return b.String()
}
