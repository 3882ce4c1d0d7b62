package api_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloister/internal/sitetest"
)

// cloisterBin and deliverBin are the binaries built once for the daemon
// tests. Under -short (make test-unit) every test that runs them is skipped
// (testdirs.Slow), so they are not built: a test that ran them anyway would
// fail on the empty path.
var cloisterBin, deliverBin string

func TestMain(m *testing.M) {
	flag.Parse()
	if testing.Short() {
		os.Exit(m.Run())
	}
	dir, err := os.MkdirTemp("", "cloister-api-test")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	bins, err := sitetest.Build(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	cloisterBin, deliverBin = bins.Cloister, bins.Deliver
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// site is a Cloister site on disk driven through the binary.
type site struct {
	t      *testing.T
	dir    string
	config string
}

// newSite makes a site with the lists team@ and other@lists.test.
func newSite(t *testing.T) *site {
	t.Helper()
	dir := t.TempDir()
	cs := sitetest.Init(t, func(args ...string) (string, error) {
		out, errOut, err := cloister(nil, args...)
		if err != nil {
			return out + errOut, err
		}
		return out, nil
	}, filepath.Join(dir, "state"), "127.0.0.1:1")
	s := &site{t: t, dir: dir, config: cs.Config}
	for _, l := range []string{"team@lists.test", "other@lists.test"} {
		s.run("list", "create", l)
	}
	return s
}

// run runs one cloister command on the site and returns its standard output.
func (s *site) run(args ...string) string {
	s.t.Helper()
	out, errOut, err := s.runErr(nil, args...)
	if err != nil {
		s.t.Fatalf("cloister %s: %v\n%s%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// runErr runs one cloister command on the site with stdin and returns its
// standard output and error output.
func (s *site) runErr(stdin []byte, args ...string) (string, string, error) {
	return cloister(stdin, append([]string{"--config", s.config}, args...)...)
}

// cloister runs the built cloister binary (logging errors only).
func cloister(stdin []byte, args ...string) (string, string, error) {
	cmd := exec.Command(cloisterBin, append([]string{"--log-level", "error"}, args...)...)
	cmd.Stdin = bytes.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	return out.String(), errOut.String(), err
}

// hold posts a message from a member of a moderated list and runs the
// incoming and rules runners, which hold it; it returns the held post's ID.
func (s *site) hold(list, member, subject string) string {
	s.t.Helper()
	msg := "From: " + member + "\r\nTo: " + list + "\r\nSubject: " + subject +
		"\r\nMessage-ID: <" + strings.ReplaceAll(subject, " ", ".") + "@subs.test>\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello.\r\n"
	s.deliver(list, msg)
	before := s.run("held", "ls", list)
	s.run("runner", "incoming", "--once")
	s.run("runner", "rules", "--once")
	after := s.run("held", "ls", list)
	for _, line := range strings.Split(after, "\n") {
		f := strings.Fields(line)
		if len(f) > 0 && !strings.Contains(before, f[0]) && strings.Contains(line, subject) {
			return f[0]
		}
	}
	s.t.Fatalf("no post held for %q:\n%s", subject, after)
	return ""
}

// deliver hands msg to the built deliver binary for list, as the MTA does.
func (s *site) deliver(list, msg string) {
	s.t.Helper()
	cmd := exec.Command(deliverBin, "--config", s.config, list)
	cmd.Stdin = strings.NewReader(msg)
	if out, err := cmd.CombinedOutput(); err != nil {
		s.t.Fatalf("deliver: %v\n%s", err, out)
	}
}

// moderate makes a list moderated with a member.
func (s *site) moderate(list, member string) {
	s.t.Helper()
	s.run("list", "set", list, "send", "send.moderated")
	s.run("member", "add", list, member)
}

// token makes a token with the given scopes and returns its secret.
func (s *site) token(scopes ...string) string {
	s.t.Helper()
	args := []string{"token", "create", "--expires", "1d"}
	for _, sc := range scopes {
		args = append(args, "--scope", sc)
	}
	return strings.TrimSpace(s.run(args...))
}

// daemon is a running `cloister api` process and a client of it.
type daemon struct {
	// api is the daemon's address as --api takes it; fpr its certificate's
	// fingerprint (TLS only).
	api, fpr string
	base     string
	client   *http.Client
	cmd      *exec.Cmd
	logs     *bytes.Buffer
}

// startDaemon starts `cloister api` with extra arguments and waits for its
// "listening on" line.
func (s *site) startDaemon(args ...string) *daemon {
	s.t.Helper()
	cmd := exec.Command(cloisterBin, append([]string{"--config", s.config, "api"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		s.t.Fatal(err)
	}
	logs := &bytes.Buffer{}
	cmd.Stderr = logs
	if err := cmd.Start(); err != nil {
		s.t.Fatal(err)
	}
	d := &daemon{cmd: cmd, logs: logs}
	s.t.Cleanup(func() { d.stop(s.t) })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		s.t.Fatalf("cloister api did not start: %v\n%s", err, logs)
	}
	go io.Copy(io.Discard, stdout)
	addr := strings.TrimSpace(strings.TrimPrefix(line, "listening on "))
	switch {
	case strings.HasPrefix(addr, "unix:"):
		path := strings.TrimPrefix(addr, "unix:")
		d.api, d.base = addr, "http://cloister"
		d.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{
			DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
				var dl net.Dialer
				return dl.DialContext(ctx, "unix", path)
			}}}
	case strings.HasPrefix(addr, "https://"):
		url, fpr, _ := strings.Cut(addr, " certificate sha256 ")
		d.api, d.fpr, d.base = url, fpr, strings.TrimSuffix(url, "/")
		d.client = &http.Client{Timeout: time.Minute, Transport: &http.Transport{TLSClientConfig: pinned(fpr)}}
	default:
		s.t.Fatalf("unexpected first line %q", line)
	}
	return d
}

// pinned trusts exactly the certificate with this SHA-256 fingerprint.
func pinned(fpr string) *tls.Config {
	return &tls.Config{InsecureSkipVerify: true, VerifyPeerCertificate: func(raw [][]byte, _ [][]*x509.Certificate) error {
		sum := sha256.Sum256(raw[0])
		if hex.EncodeToString(sum[:]) != fpr {
			return errors.New("certificate does not match the printed fingerprint")
		}
		return nil
	}}
}

// stop sends SIGTERM and waits for a clean exit.
func (d *daemon) stop(t *testing.T) {
	if d.cmd.ProcessState != nil {
		return
	}
	d.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- d.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("cloister api exited with %v after SIGTERM\n%s", err, d.logs)
		}
	case <-time.After(2 * time.Minute):
		d.cmd.Process.Kill()
		t.Errorf("cloister api did not stop on SIGTERM\n%s", d.logs)
	}
}

// response is one answer of the daemon.
type response struct {
	status int
	body   []byte
	header http.Header
}

// errorCode returns the code of a JSON error answer ("" if not one).
func (r response) errorCode() string {
	var e struct {
		Error struct{ Code, Message string } `json:"error"`
	}
	if json.Unmarshal(r.body, &e) != nil {
		return ""
	}
	return e.Error.Code
}

// do sends one request with a bearer token (none when empty).
func (d *daemon) do(t *testing.T, token, method, path, ct string, body []byte) response {
	t.Helper()
	req, err := http.NewRequest(method, d.base+path, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	resp, err := d.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return response{status: resp.StatusCode, body: b, header: resp.Header}
}
