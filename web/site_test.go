package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"html"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"sync"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/seal"
	"cloister/internal/site"
	"cloister/internal/sitetest"
	"cloister/internal/smtpsink"
	"cloister/keyring"
	"cloister/runners"
)

// clock is the server's clock in tests: the real time plus an offset that
// tests move forward (keys and signatures that gpg makes now are never in
// its future).
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return time.Now().Add(c.offset) }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// webSite is a real site (state in a temp dir, real keyring, an SMTP sink as
// its MTA) with the list team@lists.test (owner ann, members bob and cat),
// and the web server in front of it on an httptest TLS listener.
type webSite struct {
	*site.Site
	keys  *keyring.Keyring
	sink  *smtpsink.Sink
	srv   *Server
	ts    *httptest.Server
	clock *clock
	logs  *bytes.Buffer
	// config is the path of the site's cloister.toml.
	config string
}

func newWebSite(t *testing.T, tlsFiles TLSFiles) *webSite {
	t.Helper()
	var cfgPath string
	st := sitetest.New(t, func(t testing.TB, dir, smtpAddr string) *config.Config {
		cfgPath = writeConfig(t, dir, smtpAddr)
		cfg, err := config.Load(cfgPath)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	})
	s := st.Site
	k, err := keyring.OpenSite(s.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	s.SetKeyring(k)
	c := &clock{}
	opts := Options{Now: c.now}
	if tlsFiles.ClientCA != "" {
		if opts.ClientCAs, err = ClientCAs(tlsFiles.ClientCA); err != nil {
			t.Fatal(err)
		}
	}
	srv, err := New(s, opts)
	if err != nil {
		t.Fatal(err)
	}
	tcfg, err := TLSConfig(tlsFiles)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewUnstartedServer(srv)
	ts.TLS = tcfg
	ts.StartTLS()
	t.Cleanup(ts.Close)
	return &webSite{Site: s, keys: k, sink: st.Sink, srv: srv, ts: ts, clock: c, logs: st.Logs, config: cfgPath}
}

// writeConfig writes the site's cloister.toml (with its queue key and
// keyring passphrase files) into dir and returns its path.
func writeConfig(t testing.TB, dir, smtpAddr string) string {
	t.Helper()
	qk := filepath.Join(dir, "queue-key")
	if err := seal.Generate(qk); err != nil {
		t.Fatal(err)
	}
	pass := filepath.Join(dir, "keyring-pass")
	if err := os.WriteFile(pass, []byte("test passphrase\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// The site's own scenarios, next to the built-in ones: owners and
	// moderators confirmed by an email token (md5) or a signature.
	scen := filepath.Join(dir, "scenarios")
	if err := os.MkdirAll(scen, 0o700); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"admin.owner_confirmed":    "title.gettext owners, confirmed by mail or signed\n\nis_owner([listname],[sender]) md5,pgp,smime -> do_it\ntrue() smtp,md5,pgp,smime -> reject(reason='admin_signed')\n",
		"moderate.owner_confirmed": "title.gettext moderators and owners, confirmed by mail or signed\n\nis_editor([listname],[sender]) md5,pgp,smime -> do_it\nis_owner([listname],[sender]) md5,pgp,smime -> do_it\ntrue() smtp,md5,pgp,smime -> reject(reason='moderate_signed')\n",
	} {
		if err := os.WriteFile(filepath.Join(scen, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	path := filepath.Join(dir, "cloister.toml")
	toml := fmt.Sprintf("state_dir = %q\ndomain = \"lists.test\"\nsmtp_addr = %q\nqueue_key_file = %q\nkeyring_passphrase_file = %q\nscenario_dir = %q\n",
		filepath.Join(dir, "state"), smtpAddr, qk, pass, scen)
	if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// drain runs the runners until every queue is empty (the mails leave).
func (ws *webSite) drain(t *testing.T) {
	t.Helper()
	if err := runners.Drain(context.Background(), ws.Site); err != nil {
		t.Fatal(err)
	}
}

func (ws *webSite) mailbox(t *testing.T, rcpt string) [][]byte {
	t.Helper()
	m, err := ws.sink.Mailbox(rcpt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// browser is an HTTP client with its own cookie jar, standing for one
// browser; certs, when set, are its client certificates.
type browser struct {
	t    *testing.T
	ws   *webSite
	c    *http.Client
	jar  *cookiejar.Jar
	last string // body of the last page
	// base is the server's URL: the in-process server's unless set (a
	// daemon started as a process).
	base string
}

// url returns the server's URL: base, or the in-process server's.
func (b *browser) url() string {
	if b.base != "" {
		return b.base
	}
	return b.ws.ts.URL
}

func (ws *webSite) browser(t *testing.T, certs ...tls.Certificate) *browser {
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, Certificates: certs}}
	c := &http.Client{Jar: jar, Transport: tr, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	return &browser{t: t, ws: ws, c: c, jar: jar}
}

// get fetches a page and returns its status and body.
func (b *browser) get(path string) (int, string) {
	b.t.Helper()
	resp, err := b.c.Get(b.url() + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return resp.StatusCode, b.last
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf returns the CSRF token of the last page's forms.
func (b *browser) csrf() string {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(b.last)
	if m == nil {
		b.t.Fatalf("no CSRF field on the page:\n%s", b.last)
	}
	return html.UnescapeString(m[1])
}

// post submits a form and returns the status, the Location and the body.
func (b *browser) post(path string, form url.Values) (int, string, string) {
	b.t.Helper()
	resp, err := b.c.PostForm(b.url()+path, form)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	b.last = string(body)
	return resp.StatusCode, resp.Header.Get("Location"), b.last
}

// cookie returns the session cookie's value.
func (b *browser) cookie() string {
	u, _ := url.Parse(b.url())
	for _, c := range b.jar.Cookies(u) {
		if c.Name == cookieName {
			return c.Value
		}
	}
	return ""
}

var codeLine = regexp.MustCompile(`(?m)^    ([a-z2-7]{24})\s*$`)

// loginCode asks for a login mail for addr, delivers it and returns the
// code it holds (the mail must be in clear).
func (b *browser) askLogin(addr string) {
	b.t.Helper()
	b.get("/login")
	if code, _, body := b.post("/login", url.Values{"csrf": {b.csrf()}, "address": {addr}}); code != http.StatusOK {
		b.t.Fatalf("login mail for %s: %d\n%s", addr, code, body)
	}
}

// lastCode delivers the mail and returns the login code of the last mail
// to addr.
func (ws *webSite) lastCode(t *testing.T, addr string) string {
	t.Helper()
	return ws.lastMatch(t, addr, codeLine, "login code")
}

// lastMatch delivers the mail and returns the first group of re in the
// last mail to addr, failing the test (naming what) if there is none.
func (ws *webSite) lastMatch(t *testing.T, addr string, re *regexp.Regexp, what string) string {
	t.Helper()
	ws.drain(t)
	box := ws.mailbox(t, addr)
	if len(box) == 0 {
		t.Fatalf("no mail for %s", addr)
	}
	m := re.FindSubmatch(box[len(box)-1])
	if m == nil {
		t.Fatalf("no %s in the mail:\n%s", what, box[len(box)-1])
	}
	return string(m[1])
}

// login logs the browser in as addr by email token.
func (b *browser) login(addr string) {
	b.t.Helper()
	b.askLogin(addr)
	code := b.ws.lastCode(b.t, addr)
	b.get("/login/token?code=" + code)
	st, loc, body := b.post("/login/token", url.Values{"csrf": {b.csrf()}, "code": {code}})
	if st != http.StatusSeeOther || loc != "/me" {
		b.t.Fatalf("login as %s: %d %s\n%s", addr, st, loc, body)
	}
}

// loginIssued logs the browser in as addr by email token, with a token
// issued here instead of one read out of the mail (for addresses whose
// login mail is encrypted; the mail itself is tested in loginmail_test.go).
func (b *browser) loginIssued(addr string) {
	b.t.Helper()
	code := b.ws.srv.tokens.issue(addr)
	b.get("/login/token?code=" + code)
	st, loc, body := b.post("/login/token", url.Values{"csrf": {b.csrf()}, "code": {code}})
	if st != http.StatusSeeOther || loc != "/me" {
		b.t.Fatalf("login as %s: %d %s\n%s", addr, st, loc, body)
	}
}
