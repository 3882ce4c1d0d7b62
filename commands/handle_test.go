package commands

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/gnupg"
	"cloister/internal/site"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
	"cloister/replay"
	"cloister/rules"
)

// testSite is a site in a temp dir with team@lists.test (owner ann, member
// bob).
func testSite(t testing.TB) (*site.Site, *lists.List) {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte("state_dir = \"" + filepath.Join(dir, "state") + "\"\ndomain = \"lists.test\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	var l *lists.List
	err = s.Lists.Update(func(tx *lists.Tx) error {
		var err error
		if l, err = lists.NewList("team@lists.test", time.Now()); err != nil {
			return err
		}
		if err := tx.CreateList(l); err != nil {
			return err
		}
		if err := tx.AddMember(l.Address, &lists.Member{Address: "ann@subs.test", Roles: []lists.Role{lists.RoleOwner, lists.RoleMember}}); err != nil {
			return err
		}
		return tx.AddMember(l.Address, &lists.Member{Address: "bob@subs.test"})
	})
	if err != nil {
		t.Fatal(err)
	}
	return s, l
}

func newRequest(s *site.Site, l *lists.List, m *queue.Meta, body string, now time.Time) *Request {
	return &Request{Site: s, List: l, Meta: m, Body: []byte(body), Now: now, Scenarios: rules.NewScenarioSet(""),
		Replay: replay.ForSite(s.Config.StateDir)}
}

func replyText(t *testing.T, out *Outcome) string {
	t.Helper()
	if len(out.Mail) == 0 || out.Mail[0].Kind != "reply" {
		t.Fatalf("no reply: %+v", out)
	}
	return string(out.Mail[0].Data)
}

// TestSignedCommandAge: a signed command whose OpenPGP signature is older
// than signed_command_max_age_days is refused; a fresh one is carried out
// once, and the same entry handled again (a retry) is not a replay.
func TestSignedCommandAge(t *testing.T) {
	s, l := testSite(t)
	h := gnupg.New(t)
	fpr := h.GenKey("ann <ann@subs.test>", "cv25519")
	mail := string(h.PGPMIMESigned("From: ann@subs.test\nSubject: x\n", []byte("Content-Type: text/plain\n\nx-list-name team\nremove bob@subs.test\n"), "ann@subs.test"))
	meta := func(id string) *queue.Meta {
		return &queue.Meta{ID: id, List: l.Address, Subaddress: queue.SubRequest, Sender: "ann@subs.test", From: "ann@subs.test",
			Encryption: "none", Verdict: "good", Auth: "pgp", SignerFpr: fpr, SignerAddresses: []string{"ann@subs.test"}}
	}
	out, err := Handle(newRequest(s, l, meta("e1"), mail, time.Now().Add(8*24*time.Hour)))
	if err != nil {
		t.Fatal(err)
	}
	if r := replyText(t, out); !strings.Contains(r, "refused: the signature is older than 7 days") {
		t.Fatalf("old signature:\n%s", r)
	}
	for i, id := range []string{"e2", "e2", "e3"} {
		out, err := Handle(newRequest(s, l, meta(id), mail, time.Now()))
		if err != nil {
			t.Fatal(err)
		}
		r := replyText(t, out)
		want := "refused: only list owners" // admin.signed reads the roster; bob is gone after the first
		switch i {
		case 0:
			want = "done: bob@subs.test is unsubscribed"
		case 1:
			want = "refused: bob@subs.test is not on" // same entry again: not a replay
		case 2:
			want = "refused: this signed message was received before"
		}
		if !strings.Contains(r, want) {
			t.Fatalf("handling %d (%s): want %q in:\n%s", i, id, want, r)
		}
	}
}

// TestDocsListEveryCommand keeps the guides true to the table.
func TestDocsListEveryCommand(t *testing.T) {
	var doc []byte
	for _, f := range []string{"../docs/subscribers.md", "../docs/owners.md"} {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		doc = append(doc, b...)
	}
	for _, c := range All {
		if !strings.Contains(string(doc), "### "+c.Name()) && !strings.Contains(string(doc), "| `"+c.Name()) {
			t.Errorf("command %s is not documented in docs/subscribers.md or docs/owners.md", c.Name())
		}
	}
}

// TestSMIMESignatureTime: the signing time of an S/MIME signature (made by
// openssl) is read, so the age window of signed commands applies to it too.
func TestSMIMESignatureTime(t *testing.T) {
	testdirs.Slow(t, "runs openssl for every signature")
	ca := testca.New(t)
	ann := ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment")
	signed := ca.Run([]byte("Content-Type: text/plain\r\n\r\nx-list-name team\r\nwho\r\n"), "cms", "-sign", "-signer", ann.Cert, "-inkey", ann.Key, "-md", "sha256")
	mail := append([]byte("From: ann@subs.test\r\nSubject: x\r\n"), signed...)
	sig := SignatureOf(mail, "")
	if sig.Created.IsZero() || time.Since(sig.Created) > time.Hour || time.Until(sig.Created) > time.Hour {
		t.Fatalf("signing time = %v", sig.Created)
	}
	if SignatureOf(mail, "other").Digest != sig.Digest {
		t.Fatal("the digest of a signature depends on something besides the signature")
	}
}

func itoa(i int) string {
	var b [20]byte
	n := len(b)
	for {
		n--
		b[n] = byte('0' + i%10)
		i /= 10
		if i == 0 {
			return string(b[n:])
		}
	}
}
