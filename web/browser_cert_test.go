package web

// Client-certificate login in chromium. Chromium on Linux takes client
// certificates from the NSS database at $HOME/.pki/nssdb, so each browser
// gets its own HOME with one certificate imported by pk12util, and it
// offers only certificates allowed for TLS client authentication. Without
// a policy chromium waits for the user to choose a certificate; this
// chromium has no command-line switch for the choice
// (auto-select-certificate is only a content setting's name), so the test
// writes a managed policy AutoSelectCertificateForUrls for the daemon's
// URL alone, named uniquely and removed when the test ends.

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/keyring"
)

// chromePolicyDir is where Debian's chromium reads managed policies.
const chromePolicyDir = "/etc/chromium/policies/managed"

// autoSelectCertificate writes a managed chromium policy that picks, for
// base, the client certificate issued by the CA named issuerCN without a
// dialog. The file is removed when the test ends.
func autoSelectCertificate(t *testing.T, base, issuerCN string) {
	t.Helper()
	if err := os.MkdirAll(chromePolicyDir, 0o755); err != nil {
		t.Fatalf("chromium reads its certificate auto-selection policy from %s, which cannot be created: %v (the test must write a policy file there)", chromePolicyDir, err)
	}
	rule, err := json.Marshal(map[string]any{
		"pattern": base,
		"filter":  map[string]any{"ISSUER": map[string]string{"CN": issuerCN}},
	})
	if err != nil {
		t.Fatal(err)
	}
	policy, err := json.Marshal(map[string][]string{"AutoSelectCertificateForUrls": {string(rule)}})
	if err != nil {
		t.Fatal(err)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(chromePolicyDir, "cloister-test-"+hex.EncodeToString(id[:])+".json")
	if err := os.WriteFile(p, policy, 0o644); err != nil {
		t.Fatalf("write the chromium policy %s (needed to pick the client certificate without a dialog): %v", p, err)
	}
	t.Cleanup(func() {
		if err := os.Remove(p); err != nil {
			t.Errorf("remove the chromium policy %s: %v", p, err)
		}
	})
}

// nssHome makes a HOME whose NSS database ($HOME/.pki/nssdb) holds the
// leaf's certificate and key, imported as PKCS#12 with pk12util.
func nssHome(t *testing.T, ca *testca.CA, l *testca.Leaf) string {
	t.Helper()
	for _, tool := range []string{"certutil", "pk12util"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is not installed: run test/setup.sh (it installs libnss3-tools)", tool)
		}
	}
	home := t.TempDir()
	db := filepath.Join(home, ".pki", "nssdb")
	if err := os.MkdirAll(db, 0o700); err != nil {
		t.Fatal(err)
	}
	run := func(name string, args ...string) {
		t.Helper()
		if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
	}
	run("certutil", "-N", "-d", "sql:"+db, "--empty-password")
	p12 := filepath.Join(t.TempDir(), "leaf.p12")
	ca.Run(nil, "pkcs12", "-export", "-in", l.Cert, "-inkey", l.Key, "-name", l.Email, "-out", p12, "-passout", "pass:test")
	run("pk12util", "-i", p12, "-d", "sql:"+db, "-W", "test")
	return home
}

// certChrome starts chromium with the leaf's certificate in its NSS
// database.
func certChrome(t *testing.T, ca *testca.CA, l *testca.Leaf) *chrome {
	t.Helper()
	return newChrome(t, chromedp.Env("HOME="+nssHome(t, ca, l)))
}

// openCertLogin opens the login page and fails unless chromium presented
// a client certificate (the page then offers the certificate login).
func (c *chrome) openCertLogin(base string) {
	c.t.Helper()
	c.run("open the login page", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(chromedp.CSS(`main`)))
	if got := c.text(); !strings.Contains(got, "Log in with my certificate") {
		c.t.Fatalf("chromium presented no client certificate (is it allowed for client authentication, and does the policy select it?):\n%s", got)
	}
}

// TestBrowserLoginByCertificate: in chromium, ann, whose S/MIME
// certificate is bound, logs in with it (smime) and reaches the list's
// settings page, which admin.signed allows only to a signed (smime)
// owner; a browser holding bob's certificate, which is not one bound to
// him, is refused and does not reach the settings page.
func TestBrowserLoginByCertificate(t *testing.T) {
	testdirs.Slow(t, "needs chromium and root (a certificate policy under /etc/chromium)")
	ca := testca.Shared(t)
	ann := ca.IssueBrowser("ann@subs.test", "rsa", "digitalSignature,keyEncipherment")
	bob := ca.IssueBrowser("bob@subs.test", "rsa", "digitalSignature,keyEncipherment")
	ws := newWebSite(t, TLSFiles{ClientCA: ca.Cert})
	if _, err := ws.keys.AddCert("ann@subs.test", ann.CertPEM, keyring.UseBoth); err != nil {
		t.Fatalf("bind ann's certificate: %v", err)
	}
	base := ws.startDaemon(t, "--client-ca", ca.Cert)
	autoSelectCertificate(t, base, "Cloister Test CA")
	settingsForm := `form[action="/lists/team@lists.test/admin/settings"]`

	t.Run("bound certificate", func(t *testing.T) {
		c := certChrome(t, ca, ann)
		c.openCertLogin(base)
		if got := c.textOf("#certaddr"); !strings.Contains(got, "ann@subs.test") {
			t.Fatalf("the certificate login offers %q, want ann@subs.test", got)
		}
		c.run("log in with the certificate",
			chromedp.Click(chromedp.CSS(`form[action="/login/cert"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`.who`)),
		)
		if who := c.textOf(".who"); who != "ann@subs.test (smime)" {
			t.Fatalf("logged in as %q, want ann@subs.test (smime)", who)
		}
		c.run("open the settings page",
			chromedp.Navigate(base+"/lists/team@lists.test/admin"),
			chromedp.WaitVisible(chromedp.CSS(settingsForm)),
		)
	})

	t.Run("certificate of another address", func(t *testing.T) {
		c := certChrome(t, ca, bob)
		c.openCertLogin(base)
		c.run("log in with the certificate",
			chromedp.Click(chromedp.CSS(`form[action="/login/cert"] button`)),
			// the refusal, or the logged-in name if it were let in
			chromedp.WaitVisible(chromedp.CSS(`p[role="alert"], .who`)),
		)
		if got := c.text(); !strings.Contains(got, "This certificate is not the S/MIME certificate on file for bob@subs.test") {
			t.Fatalf("bob's unbound certificate: %s", got)
		}
		c.run("open the settings page",
			chromedp.Navigate(base+"/lists/team@lists.test/admin"),
			chromedp.WaitVisible(chromedp.CSS(`main`)),
		)
		settings, err := chromedp.Run(c.ctx, chromedp.Evaluate[bool](`document.querySelector('`+settingsForm+`') !== null`))
		if err != nil {
			t.Fatalf("look for the settings form: %v", err)
		}
		if settings {
			t.Fatalf("the settings page opened for a browser whose certificate login was refused: %s", c.text())
		}
	})
}
