package runners

import (
	"bytes"
	"strings"
	"testing"

	"cloister/etc"
	"cloister/lists"
	"cloister/queue"
)

// applyStyle gives the team list the settings of a built-in style file
// (its "set SETTING VALUE" lines), as cloister list create --style does.
func applyStyle(t *testing.T, s *testSite, style string) {
	t.Helper()
	data, err := etc.Styles.ReadFile("styles/" + style)
	if err != nil {
		t.Fatal(err)
	}
	err = s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		for _, line := range strings.Split(string(data), "\n") {
			f := strings.Fields(line)
			if len(f) == 3 && f[0] == "set" {
				if err := l.Settings.Set(f[1], f[2]); err != nil {
					return err
				}
			}
		}
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestEncryptedOpenPGPStyleFlow: a list with the settings of the
// encrypted-openpgp style distributes a signed post encrypted to the list
// key only encrypted (members with a key get a copy only their gpg opens,
// the member without one a notice), and refuses a clear post and an
// encrypted but unsigned one.
func TestEncryptedOpenPGPStyleFlow(t *testing.T) {
	s, homes := encryptedSite(t)
	applyStyle(t, s, "encrypted-openpgp")
	const marker = "STYLE-MARKER-51c2"
	inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nAgenda. " + marker + "\r\n")
	bob := homes["bob@subs.test"]
	s.deliver(t, queue.SubPost, "bob@subs.test", string(bob.PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Agenda\nMessage-ID: <agenda@subs.test>\n",
		inner, true, "bob@subs.test", "team@lists.test")))
	s.drain(t)
	for _, addr := range []string{"ann@subs.test", "bob@subs.test"} {
		box := s.mailbox(t, addr)
		if len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
			t.Fatalf("%s got %d messages, or one in clear; bad: %q", addr, len(box), s.badReasons(t))
		}
		pt, status, err := homes[addr].Decrypt(armoredPart(t, box[0]))
		if err != nil || !bytes.Contains(pt, []byte(marker)) {
			t.Fatalf("%s cannot read its copy: %v\n%s", addr, err, status)
		}
	}
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 1 || bytes.Contains(box[0], []byte(marker)) {
		t.Fatalf("cat (no key) got %q", box)
	}

	// A clear post, and an encrypted post without a signature, go nowhere.
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: clear\nMessage-ID: <clear@subs.test>\n\nclear text CLEAR-5d1\n")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(bob.PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: unsigned\nMessage-ID: <unsigned@subs.test>\n",
		[]byte("Content-Type: text/plain\r\n\r\nUNSIGNED-9e4\r\n"), false, "", "team@lists.test")))
	s.drain(t)
	if box := s.mailbox(t, "ann@subs.test"); len(box) != 1 {
		t.Fatalf("ann got %d messages: a refused post was distributed", len(box))
	}
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
}
