package api_test

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestEncryptedHeldHeadersOnly holds a post that arrived encrypted to the
// list key (made by the real gpg, with the key the API exported) and reads
// it through every held-post endpoint: the API shows its headers and why it
// was held, never its body.
func TestEncryptedHeldHeadersOnly(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	s.run("list", "create", "secret@lists.test", "--style", "encrypted-openpgp")
	s.run("list", "set", "secret@lists.test", "send", "send.moderated")
	s.run("member", "add", "secret@lists.test", "ann@subs.test")
	owner := s.token("list:secret@lists.test:owner")
	d := s.startDaemon("--socket", s.dir+"/api.sock")

	// The list key as the API exports it, imported by gpg.
	r := d.do(t, owner, "GET", "/v1/lists/secret@lists.test/listkey/openpgp", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/pgp-keys" {
		t.Fatalf("list key export = %d %s", r.status, r.body)
	}
	home := gnupg.New(t)
	home.Import(r.body)
	const secretText = "the launch code is 0000 and must never leave encrypted"
	armored := home.Run([]byte(secretText+"\n"), "--armor", "--encrypt", "-r", "secret@lists.test")
	msg := "From: ann@subs.test\r\nTo: secret@lists.test\r\nSubject: encrypted post\r\nMessage-ID: <enc@subs.test>\r\n" +
		"MIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" + strings.ReplaceAll(string(armored), "\n", "\r\n")
	s.deliver("secret@lists.test", msg)
	s.run("runner", "incoming", "--once")
	s.run("runner", "rules", "--once")

	r = d.do(t, owner, "GET", "/v1/lists/secret@lists.test/held", "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"sender": "ann@subs.test"`) {
		t.Fatalf("held list = %d %s", r.status, r.body)
	}
	id := strings.SplitN(strings.SplitN(string(r.body), `"id": "`, 2)[1], `"`, 2)[0]
	bodies := [][]byte{r.body}
	r = d.do(t, owner, "GET", "/v1/lists/secret@lists.test/held/"+id, "", nil)
	if r.status != 200 || !strings.Contains(string(r.body), `"encrypted": true`) || !strings.Contains(string(r.body), "From: ann@subs.test") {
		t.Fatalf("held show = %d %s", r.status, r.body)
	}
	bodies = append(bodies, r.body)
	bodies = append(bodies, d.do(t, owner, "GET", "/v1/audit?list=secret@lists.test", "", nil).body)
	for _, b := range bodies {
		if strings.Contains(string(b), "launch code") {
			t.Fatalf("the API showed the plaintext of an encrypted post:\n%s", b)
		}
	}
	// The plaintext was really there to leak: the post was decrypted.
	held, _ := filepath.Glob(filepath.Join(s.dir, "state", "queue", "held", "*.msg"))
	if len(held) != 1 {
		t.Fatalf("held queue: %v", held)
	}
	if b, _ := os.ReadFile(held[0]); strings.Contains(string(b), "launch code") {
		t.Fatal("the held post's plaintext is on disk in clear")
	}
	if !strings.Contains(string(r.body), `"encryption": "pgp-inline"`) {
		t.Fatalf("the post was not decrypted by the incoming runner: %s", r.body)
	}
}

// TestListCertificateExport exports a list's S/MIME certificate through the
// daemon and has the real openssl read it: it names the list's address.
func TestListCertificateExport(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatal("openssl is not installed: run test/setup.sh")
	}
	s := newSite(t)
	s.run("list", "create", "smime@lists.test", "--style", "encrypted-smime")
	reader := s.token("list:smime@lists.test:read")
	d := s.startDaemon("--socket", s.dir+"/api.sock")
	r := d.do(t, reader, "GET", "/v1/lists/smime@lists.test/listkey/smime", "", nil)
	if r.status != 200 || r.header.Get("Content-Type") != "application/x-pem-file" {
		t.Fatalf("certificate export = %d %s", r.status, r.body)
	}
	cmd := exec.Command("openssl", "x509", "-noout", "-ext", "subjectAltName")
	cmd.Stdin = bytes.NewReader(r.body)
	out, err := cmd.CombinedOutput()
	if err != nil || !strings.Contains(string(out), "smime@lists.test") {
		t.Fatalf("openssl x509: %v\n%s", err, out)
	}
	if r := d.do(t, reader, "GET", "/v1/lists/smime@lists.test/listkey/x25519", "", nil); r.status != 400 || r.errorCode() != "invalid" {
		t.Fatalf("unknown kind = %d %s", r.status, r.body)
	}
}
