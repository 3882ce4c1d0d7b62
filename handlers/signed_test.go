package handlers

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"cloister/internal/testdirs"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
)

// signedSettings turn on every handler that edits content.
const signedSettings = `{"footer": "Team list -- team@lists.example.test", "strip_original_signature": true,
	"content_filter": "text/plain html-to-text", "reply_to": "list"}`

// runSignedCorpus runs the default pipeline over a corpus message and checks
// that the body bytes came out unchanged; it returns the output.
func runSignedCorpus(t *testing.T, rel string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(testdirs.Corpus(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	ctx := newTestContext(t, raw, caseConfig{Settings: []byte(signedSettings)})
	body := append([]byte(nil), ctx.Msg.Body...)
	if _, err := Run(DefaultPipeline(), ctx); err != nil {
		t.Fatalf("pipeline: %v", err)
	}
	if !bytes.Equal(ctx.Msg.Body, body) {
		t.Fatalf("the pipeline changed the body of a signed post:\n%s", ctx.Msg.Body)
	}
	if ctx.Msg.Get("List-Id") == "" {
		t.Fatalf("the pipeline did not run (no List-Id)")
	}
	return ctx.Msg.Bytes()
}

func lookTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		t.Fatalf("%s is needed for this test (apt-get install -y gnupg openssl): %v", name, err)
	}
	return p
}

// gpgVerify imports key into a temporary GNUPGHOME and verifies.
func gpgVerify(t *testing.T, key string, args ...string) {
	t.Helper()
	gpg := lookTool(t, "gpg")
	home := t.TempDir()
	run := func(a ...string) {
		cmd := exec.Command(gpg, append([]string{"--homedir", home, "--batch", "--no-tty", "--trust-model", "always"}, a...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gpg %v: %v\n%s", a, err, out)
		}
	}
	run("--import", filepath.Join(testdirs.Corpus(t), key))
	run(append([]string{"--verify"}, args...)...)
}

func TestSignedPGPMIMEStillVerifies(t *testing.T) {
	out := runSignedCorpus(t, "thunderbird-openpgp/msgs/signed-by-0xfbfcc82a015e7330-to-0xf231550c4f47e38e-unencrypted.eml")
	top, err := rawmime.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	mt, params, _ := top.MediaType()
	if mt != "multipart/signed" {
		t.Fatalf("output is %s", mt)
	}
	parts, err := rawmime.SplitMultipart(top.Body, params["boundary"], 10)
	if err != nil || len(parts) != 2 {
		t.Fatalf("split: %v (%d parts)", err, len(parts))
	}
	sig, err := rawmime.Parse(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	data, sigFile := filepath.Join(dir, "data"), filepath.Join(dir, "sig.asc")
	os.WriteFile(data, rawmime.Canonical(parts[0]), 0o600)
	os.WriteFile(sigFile, sig.Body, 0o600)
	gpgVerify(t, "thunderbird-openpgp/keys/bob@openpgp.example-0xfbfcc82a015e7330-pub.asc", sigFile, data)
}

func TestSignedInlinePGPStillVerifies(t *testing.T) {
	out := runSignedCorpus(t, "thunderbird-openpgp/msgs/signed-inline-indented.eml")
	e, err := rawmime.Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	f := filepath.Join(t.TempDir(), "msg.asc")
	os.WriteFile(f, e.Body, 0o600)
	gpgVerify(t, "thunderbird-openpgp/keys/alice@openpgp.example-0xf231550c4f47e38e-pub.asc", f)
}

func TestSignedSMIMEStillVerifies(t *testing.T) {
	openssl := lookTool(t, "openssl")
	ca := filepath.Join(testdirs.Corpus(t), "thunderbird-smime/keys/TestCA.pem")
	for _, rel := range []string{
		"thunderbird-smime/msgs/alice.dsig.SHA256.multipart.eml",
		"thunderbird-smime/msgs/alice.sig.SHA256.opaque.eml",
	} {
		t.Run(filepath.Base(rel), func(t *testing.T) {
			out := runSignedCorpus(t, rel)
			f := filepath.Join(t.TempDir(), "out.eml")
			os.WriteFile(f, out, 0o600)
			cmd := exec.Command(openssl, "smime", "-verify", "-in", f, "-CAfile", ca, "-out", os.DevNull)
			if b, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("openssl smime -verify after the pipeline: %v\n%s", err, b)
			}
		})
	}
}

// TestFooterNeverOnSealedCorpus checks every signed or encrypted corpus
// message: the footer handler leaves the bytes exactly as they were.
func TestFooterNeverOnSealedCorpus(t *testing.T) {
	corpus := testdirs.Corpus(t)
	files, _ := filepath.Glob(filepath.Join(corpus, "*", "msgs", "*"))
	checked := 0
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := mailmsg.Parse(raw); err != nil {
			continue // an mbox file or a bare CMS object, not a message
		}
		ctx := newTestContext(t, raw, caseConfig{Settings: []byte(`{"footer": "FOOTER-MARKER"}`)})
		tree, err := parseTree(ctx.Msg)
		if err != nil || !tree.sealed() {
			continue
		}
		checked++
		if err := (Footer{}).Process(ctx); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !bytes.Equal(ctx.Msg.Bytes(), raw) {
			t.Errorf("%s: footer changed a signed or encrypted post", filepath.Base(f))
		}
	}
	if checked < 50 {
		t.Fatalf("only %d sealed corpus messages found", checked)
	}
}
