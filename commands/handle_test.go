package commands

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/config"
	"cloister/internal/gnupg"
	"cloister/internal/testca"
	"cloister/lists"
	"cloister/queue"
	"cloister/rules"
	"cloister/site"
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
		Replay: &ReplayStore{Dir: filepath.Join(s.Config.StateDir, "signatures")}}
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

func TestReplayStoreBounded(t *testing.T) {
	r := &ReplayStore{Dir: t.TempDir(), Max: 50}
	now := time.Now()
	for i := 0; i < r.Max+10; i++ {
		if seen, err := r.Check("team@lists.test", strings.Repeat("a", 8)+string(rune('a'+i%26))+itoa(i), itoa(i), now, time.Hour); err != nil || seen {
			t.Fatalf("%d: seen %v, err %v", i, seen, err)
		}
	}
	b, err := os.ReadFile(filepath.Join(r.Dir, "team@lists.test.sigs"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "\n"); n != r.Max {
		t.Fatalf("%d records kept", n)
	}
	// Records older than keep are dropped, so the digest is new again.
	last := strings.Repeat("a", 8) + string(rune('a'+(r.Max+9)%26)) + itoa(r.Max+9)
	if seen, err := r.Check("team@lists.test", last, "other", now, time.Hour); err != nil || !seen {
		t.Fatalf("kept record not seen: %v %v", seen, err)
	}
	// The oldest were dropped.
	if seen, _ := r.Check("team@lists.test", strings.Repeat("a", 8)+"a"+itoa(0), "other", now, time.Hour); seen {
		t.Fatal("record beyond the bound still counted")
	}
	// Records older than keep are dropped, so the digest is new again.
	seen, err := r.Check("team@lists.test", last, "other", now.Add(2*time.Hour), time.Hour)
	if err != nil || seen {
		t.Fatalf("expired record still counted: %v %v", seen, err)
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

// BenchmarkReplayCheck measures one check against a full store of
// MaxSignatures records (each signed command mail pays it once).
func BenchmarkReplayCheck(b *testing.B) {
	r := &ReplayStore{Dir: b.TempDir()}
	var sb strings.Builder
	now := time.Now()
	for i := 0; i < MaxSignatures; i++ {
		sb.WriteString(strings.Repeat("0", 56) + itoa(10000000+i) + " " + itoa(int(now.Unix())) + " entry" + itoa(i) + "\n")
	}
	if err := os.WriteFile(filepath.Join(r.Dir, "team@lists.test.sigs"), []byte(sb.String()), 0o600); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := r.Check("team@lists.test", "new"+itoa(i), "e"+itoa(i), now, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// TestSMIMESignatureTime: the signing time of an S/MIME signature (made by
// openssl) is read, so the age window of signed commands applies to it too.
func TestSMIMESignatureTime(t *testing.T) {
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
