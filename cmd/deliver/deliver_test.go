package main

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"cloister/internal/listaddr"
	"cloister/queue"
)

var deliverBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "deliver-bin")
	if err != nil {
		panic(err)
	}
	deliverBin = filepath.Join(dir, "deliver")
	if out, err := exec.Command("go", "build", "-o", deliverBin, ".").CombinedOutput(); err != nil {
		panic(string(out))
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// site makes a state dir with a config allowing maxKB and one list.
func site(t *testing.T, maxKB int) (cfg, state string) {
	t.Helper()
	state = t.TempDir()
	cfg = filepath.Join(state, "cloister.toml")
	os.WriteFile(cfg, []byte("state_dir = \".\"\ndomain = \"lists.test\"\nmax_message_size_kb = "+strconv.Itoa(maxKB)+"\n"), 0o600)
	os.WriteFile(filepath.Join(state, "lists.idx"), []byte("team@lists.test\n"), 0o644)
	return cfg, state
}

func runDeliver(t *testing.T, stdin []byte, env []string, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(deliverBin, args...)
	cmd.Stdin = bytes.NewReader(stdin)
	cmd.Env = env
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		return ee.ExitCode(), stderr.String()
	} else if err != nil {
		t.Fatal(err)
	}
	return 0, stderr.String()
}

func queued(t *testing.T, state string) [][]byte {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(state, "queue", "in", "*.msg"))
	var out [][]byte
	for _, f := range files {
		b, _ := os.ReadFile(f)
		out = append(out, b)
	}
	if left, _ := filepath.Glob(filepath.Join(state, "queue", "in", ".*")); len(left) != 0 {
		t.Fatalf("temp files left: %v", left)
	}
	return out
}

func TestDeliverExitCodes(t *testing.T) {
	msg := []byte("From: ann@subs.test\nTo: team@lists.test\nSubject: hi\n\nbody\n")
	big := append(append([]byte{}, msg...), bytes.Repeat([]byte("x"), 2048)...)
	for _, tc := range []struct {
		name   string
		stdin  []byte
		env    []string
		args   []string
		code   int
		stored int
		stderr string
	}{
		{"post by argument", msg, nil, []string{"team@lists.test"}, 0, 1, ""},
		{"request address", msg, nil, []string{"team-request@lists.test"}, 0, 1, ""},
		{"postfix env", msg, []string{"ORIGINAL_RECIPIENT=team@lists.test", "SENDER=ann@subs.test"}, nil, 0, 1, ""},
		{"exim env", msg, []string{"LOCAL_PART=team", "DOMAIN=lists.test"}, nil, 0, 1, ""},
		{"unknown list", msg, nil, []string{"nope@lists.test"}, 67, 0, "no such list"},
		{"no address", msg, nil, nil, 78, 0, "no list address"},
		{"empty input", nil, nil, []string{"team@lists.test"}, 65, 0, "empty"},
		{"over the limit", big, nil, []string{"team@lists.test"}, 65, 0, "larger than 1 KB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, state := site(t, 1)
			env := append([]string{"CLOISTER_CONFIG=" + cfg}, tc.env...)
			code, stderr := runDeliver(t, tc.stdin, env, tc.args...)
			if code != tc.code || !strings.Contains(stderr, tc.stderr) {
				t.Fatalf("exit %d (%q), want %d (%q)", code, stderr, tc.code, tc.stderr)
			}
			if got := queued(t, state); len(got) != tc.stored {
				t.Fatalf("%d entries queued, want %d", len(got), tc.stored)
			}
		})
	}
}

func TestDeliverBadConfig(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "cloister.toml")
	os.WriteFile(cfg, []byte("state_dir = \".\"\ndomain = \"lists.test\"\nbogus_key = 1\n"), 0o600)
	code, stderr := runDeliver(t, []byte("From: a@b\n\nx"), nil, "--config", cfg, "team@lists.test")
	if code != 78 || !strings.Contains(stderr, "bogus_key") {
		t.Fatalf("exit %d %q", code, stderr)
	}
}

func TestDeliverTempFailure(t *testing.T) {
	cfg, state := site(t, 100)
	// The queue directory cannot be created: a file stands where it should be.
	os.WriteFile(filepath.Join(state, "queue"), []byte("x"), 0o600)
	code, stderr := runDeliver(t, []byte("From: a@b\n\nx"), []string{"CLOISTER_CONFIG=" + cfg}, "team@lists.test")
	if code != 75 {
		t.Fatalf("exit %d %q, want 75", code, stderr)
	}
}

func TestDeliverKeepsBytesAndStripsMboxFrom(t *testing.T) {
	cfg, state := site(t, 100)
	msg := "From: ann@subs.test\nSubject: =?iso-8859-1?q?caf=E9?=\nX-8bit: caf\xe9\n\nline one\r\nline two\n\x00\xff"
	code, stderr := runDeliver(t, []byte("From ann@subs.test Wed Nov 25 05:00:00 2026\n"+msg),
		[]string{"CLOISTER_CONFIG=" + cfg, "SENDER=ann@subs.test", "RECIPIENT=team-request@lists.test"})
	if code != 0 {
		t.Fatalf("exit %d %q", code, stderr)
	}
	got := queued(t, state)
	if len(got) != 1 {
		t.Fatalf("%d entries", len(got))
	}
	meta, body, _ := bytes.Cut(got[0], []byte("\n"))
	if string(body) != msg {
		t.Fatalf("body changed:\n%q\nwant\n%q", body, msg)
	}
	for _, want := range []string{`"list":"team@lists.test"`, `"subaddress":"request"`, `"sender":"ann@subs.test"`, `"recipient":"team-request@lists.test"`, `"received":"20`} {
		if !bytes.Contains(meta, []byte(want)) {
			t.Errorf("metadata %s lacks %s", meta, want)
		}
	}
}

// TestDeliverHugeMessage pipes 60 MB against a 10 MB limit: refused with 65,
// nothing stored.
func TestDeliverHugeMessage(t *testing.T) {
	cfg, state := site(t, 10240)
	huge := append([]byte("From: a@b\nSubject: big\n\n"), bytes.Repeat([]byte("0123456789abcdef\n"), 60<<20/17)...)
	code, stderr := runDeliver(t, huge, []string{"CLOISTER_CONFIG=" + cfg}, "team@lists.test")
	if code != 65 || !strings.Contains(stderr, "larger than 10240 KB") {
		t.Fatalf("exit %d %q", code, stderr)
	}
	if got := queued(t, state); len(got) != 0 {
		t.Fatalf("%d stored", len(got))
	}
}

// TestDeliverImports keeps deliver small: no crypto libraries, no database.
func TestDeliverImports(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, banned := range []string{"go.etcd.io/bbolt", "github.com/ProtonMail/go-crypto", "github.com/smallstep/pkcs7", "github.com/emersion/go-message", "crypto/rsa", "crypto/x509"} {
		for _, dep := range strings.Fields(string(out)) {
			if dep == banned {
				t.Errorf("deliver imports %s", banned)
			}
		}
	}
}

// TestDeliverRoutesEverySubaddress: deliver records each subaddress of the
// one table (listaddr.Suffixes) that lists reserve, with its extension.
func TestDeliverRoutesEverySubaddress(t *testing.T) {
	msg := []byte("From: ann@subs.test\nSubject: hi\n\nbody\n")
	for _, s := range append([]listaddr.Subaddress{{Sub: listaddr.SubPost}}, listaddr.Suffixes...) {
		t.Run(s.Sub, func(t *testing.T) {
			cfg, state := site(t, 64)
			rcpt, ext := "team"+s.Suffix+"@lists.test", ""
			if s.Extension {
				rcpt, ext = "team"+s.Suffix+"+x1@lists.test", "x1"
			}
			if code, stderr := runDeliver(t, msg, nil, "--config", cfg, rcpt); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			q := queued(t, state)
			if len(q) != 1 {
				t.Fatalf("%d entries queued", len(q))
			}
			line, _, _ := bytes.Cut(q[0], []byte("\n"))
			var m queue.Meta
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			if m.List != "team@lists.test" || m.Subaddress != s.Sub || m.Extension != ext {
				t.Fatalf("%s queued as %s %s %q", rcpt, m.List, m.Subaddress, m.Extension)
			}
		})
	}
}

// TestDeliverTakesTheExtensionFromPostfix: an alias names
// team-bounces@...; the extension of the address the mail came to comes
// from $ORIGINAL_RECIPIENT, and only when that is the same address.
func TestDeliverTakesTheExtensionFromPostfix(t *testing.T) {
	msg := []byte("From: MAILER-DAEMON@subs.test\nSubject: x\n\nx\n")
	for _, tc := range []struct{ orig, ext string }{
		{"team-bounces+abc-bob=subs.test@lists.test", "abc-bob=subs.test"},
		{"<Team-Bounces+ABC@Lists.Test>", "abc"},
		{"team-bounces@lists.test", ""},
		{"team-request+abc@lists.test", ""},
		{"other-bounces+abc@lists.test", ""},
	} {
		t.Run(tc.orig, func(t *testing.T) {
			cfg, state := site(t, 64)
			if code, stderr := runDeliver(t, msg, []string{"ORIGINAL_RECIPIENT=" + tc.orig}, "--config", cfg, "team-bounces@lists.test"); code != 0 {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			q := queued(t, state)
			if len(q) != 1 {
				t.Fatalf("%d entries", len(q))
			}
			line, _, _ := bytes.Cut(q[0], []byte("\n"))
			var m queue.Meta
			if err := json.Unmarshal(line, &m); err != nil {
				t.Fatal(err)
			}
			if m.Subaddress != queue.SubBounces || m.Extension != tc.ext {
				t.Fatalf("queued as %s %q, want bounces %q", m.Subaddress, m.Extension, tc.ext)
			}
		})
	}
}
