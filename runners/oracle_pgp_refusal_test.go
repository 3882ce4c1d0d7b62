package runners

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestOpenPGPRefusalsAreOne: an attacker who captured ciphertext learns
// nothing from the list's answers about why it could not be read. A mail
// encrypted to another key than the list's, a captured encryption to the
// list with one byte of the encrypted data changed, and one cut short, sent
// by eve (her key on file) to LIST-request and to the list, get one and the
// same answer to her (and nothing else leaves). Through the runners with gpg.
func TestOpenPGPRefusalsAreOne(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	variants := map[string]func(ct []byte) []byte{
		"not to the list key": nil,
		"a byte changed":      func(ct []byte) []byte { ct[len(ct)-12] ^= 0x40; return ct },
		"cut short":           func(ct []byte) []byte { return ct[:len(ct)-40] },
	}
	outcomes := map[string]string{}
	for name, change := range variants {
		s, k, homes := identitySite(t)
		eve, bob := homes["eve@evil.test"], homes["bob@subs.test"]
		if _, err := k.AddOpenPGP("eve@evil.test", eve.ExportPublic("eve@evil.test"), false); err != nil {
			t.Fatal(err)
		}
		to := "team@lists.test"
		if change == nil {
			to = "bob@subs.test"
		}
		ct := bob.Run([]byte("Content-Type: text/plain\r\n\r\nx-list-name team@lists.test\r\nhelp\r\n"), "--encrypt", "--sign",
			"--local-user", "bob@subs.test", "--recipient", to)
		if change != nil {
			ct = change(ct)
		}
		var arm bytes.Buffer
		w, err := armor.Encode(&arm, "PGP MESSAGE", nil)
		if err != nil {
			t.Fatal(err)
		}
		w.Write(ct)
		w.Close()
		for _, d := range []struct{ sub, addr string }{{queue.SubRequest, "team-request@lists.test"}, {queue.SubPost, "team@lists.test"}} {
			s.deliver(t, d.sub, "eve@evil.test", "From: eve@evil.test\nTo: "+d.addr+"\nSubject: ...\nMessage-ID: <x-"+d.sub+"@evil.test>\n"+
				"MIME-Version: 1.0\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\n\n"+
				"--b\nContent-Type: application/pgp-encrypted\n\nVersion: 1\n\n--b\nContent-Type: application/octet-stream\n\n"+arm.String()+"\n--b--\n")
		}
		s.drain(t)
		var b strings.Builder
		for _, rcpt := range []string{"eve@evil.test", "ann@subs.test", "bob@subs.test", "cat@subs.test"} {
			for _, m := range s.mailbox(t, rcpt) {
				text := m
				if rcpt == "eve@evil.test" {
					if pt, _, err := eve.Decrypt(m); err == nil {
						text = pt
					}
				}
				fmt.Fprintf(&b, "to %s:\n%s\n", rcpt, boundaryRE.ReplaceAllString(volatileRE.ReplaceAllString(strings.ReplaceAll(string(text), "\r\n", "\n"), ""), "B"))
			}
		}
		fmt.Fprintf(&b, "bad: %d\n", len(s.badReasons(t)))
		outcomes[name] = b.String()
	}
	want := outcomes["not to the list key"]
	if !strings.Contains(want, "could not read your message") {
		t.Fatalf("no refusal answer:\n%s", want)
	}
	for name, got := range outcomes {
		if got != want {
			t.Errorf("%q is answered differently from a mail not encrypted to the list:\n%s\n--- against ---\n%s", name, got, want)
		}
	}
}
