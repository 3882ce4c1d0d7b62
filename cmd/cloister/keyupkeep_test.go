package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
)

// gpgHome is a temporary GnuPG home for the CLI tests (internal/gnupg);
// gpg runs a command in it and fails the test on error.
func gpgHome(t *testing.T) func(stdin string, args ...string) string {
	t.Helper()
	h := gnupg.New(t)
	return func(stdin string, args ...string) string {
		t.Helper()
		return string(h.Run([]byte(stdin), args...))
	}
}

// fingerprintOf returns the first fingerprint gpg lists for who.
func fingerprintOf(t *testing.T, gpg func(string, ...string) string, who string) string {
	t.Helper()
	for _, l := range strings.Split(gpg("", "--with-colons", "--list-keys", who), "\n") {
		if strings.HasPrefix(l, "fpr:") {
			return strings.Split(l, ":")[9]
		}
	}
	t.Fatalf("no key for %s", who)
	return ""
}

// TestKeyFetchCLI: key fetch from a VKS keyserver on loopback (WKD off, so
// nothing leaves the machine) adds the key; a key without the address is
// refused and nothing is stored.
func TestKeyFetchCLI(t *testing.T) {
	cfg := keySite(t)
	gpg := gpgHome(t)
	gpg("", "--quick-gen-key", "Ann <ann@subs.test>", "ed25519", "sign,cert", "0")
	gpg("", "--quick-gen-key", "Bob <bob@subs.test>", "ed25519", "sign,cert", "0")
	ann, bob := gpg("", "--armor", "--export", "ann@subs.test"), gpg("", "--armor", "--export", "bob@subs.test")
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/vks/v1/by-email/ann@subs.test":
			w.Write([]byte(ann))
		case "/vks/v1/by-email/cat@subs.test":
			w.Write([]byte(bob)) // a key that does not carry cat's address
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	out, err := cli(t, "--config", cfg, "key", "fetch", "Ann@subs.test", "--keyserver", srv.URL, "--wkd=false")
	fpr := fingerprintOf(t, gpg, "ann@subs.test")
	if err != nil || !strings.HasPrefix(out, "ann@subs.test: OpenPGP key "+fpr+" from "+srv.URL+"/vks/v1/by-email/ann@subs.test") {
		t.Fatalf("key fetch: %v\n%s", err, out)
	}
	if out, _ := cli(t, "--config", cfg, "key", "ls", "ann@subs.test"); !strings.Contains(out, fpr) {
		t.Fatalf("key ls after fetch:\n%s", out)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"cat@subs.test", "--keyserver", srv.URL, "--wkd=false"}, "no usable key carries cat@subs.test"},
		{[]string{"dan@subs.test", "--keyserver", srv.URL, "--wkd=false"}, "404"},
		{[]string{"dan@subs.test", "--wkd=false"}, "no source"},
		{[]string{"dan@subs.test", "--keyserver", "ftp://example.org", "--wkd=false"}, "want an http(s) URL"},
		{[]string{"not-an-address", "--keyserver", srv.URL}, "not a mail address"},
	} {
		out, err := cli(t, append([]string{"--config", cfg, "key", "fetch"}, tc.args...)...)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("key fetch %v: %v (%s), want an error with %q", tc.args, err, out, tc.want)
		}
	}
	if out, _ := cli(t, "--config", cfg, "key", "ls", "cat@subs.test"); strings.Contains(out, "cat@subs.test") {
		t.Fatalf("a refused key was stored:\n%s", out)
	}
}

// TestMemberAddKeyAndExpiry: member add --key stores the member's key (and
// refuses, adding nobody, a key without the address); check reports the
// key expiring within key_warn_days; key check-expiry queues one notice,
// and a second run none.
func TestMemberAddKeyAndExpiry(t *testing.T) {
	testdirs.Slow(t, "runs gpg and openssl to make expiring keys")
	cfg := keySite(t)
	withMTA(t, cfg)
	run := func(args ...string) string {
		t.Helper()
		out, err := cli(t, append([]string{"--config", cfg}, args...)...)
		if err != nil {
			t.Fatalf("cloister %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return out
	}
	run("list", "create", "team", "--owner", "ann@subs.test")
	gpg := gpgHome(t)
	gpg("", "--quick-gen-key", "Bob <bob@subs.test>", "ed25519", "sign,cert", "10d")
	bfpr := fingerprintOf(t, gpg, "bob@subs.test")
	gpg("", "--quick-add-key", bfpr, "cv25519", "encr", "10d")
	gpg("", "--quick-gen-key", "Cat <cat@subs.test>", "ed25519", "sign,cert", "0")
	dir := t.TempDir()
	bobKey, catKey := filepath.Join(dir, "bob.asc"), filepath.Join(dir, "cat.asc")
	os.WriteFile(bobKey, []byte(gpg("", "--armor", "--export", "bob@subs.test")), 0o600)
	os.WriteFile(catKey, []byte(gpg("", "--export", "cat@subs.test")), 0o600)

	if out := run("member", "add", "team", "bob@subs.test", "--key", bobKey); !strings.Contains(out, "added bob@subs.test to team@lists.test with OpenPGP key "+bfpr) ||
		!strings.Contains(out, "told bob@subs.test\n") {
		t.Fatalf("member add --key (the bind is announced to bob): %s", out)
	}
	// Cat's key does not carry dan's address: refused, dan is not added.
	out, err := cli(t, "--config", cfg, "member", "add", "team", "dan@subs.test", "--key", catKey)
	if err == nil || !strings.Contains(err.Error(), "dan@subs.test not added") || !strings.Contains(err.Error(), "does not carry") {
		t.Fatalf("member add with a foreign key: %v\n%s", err, out)
	}
	if out := run("member", "ls", "team"); strings.Contains(out, "dan@subs.test") || !strings.Contains(out, "bob@subs.test") {
		t.Fatalf("member ls:\n%s", out)
	}
	// The owner vouches: --bind.
	if out := run("member", "add", "team", "dan@subs.test", "--key", catKey, "--bind"); !strings.Contains(out, "with OpenPGP key") {
		t.Fatalf("member add --bind: %s", out)
	}
	// A certificate made by openssl goes through AddCert.
	fay := testca.New(t).Issue("fay@subs.test", "rsa", "digitalSignature,keyEncipherment")
	if out := run("member", "add", "team", "fay@subs.test", "--key", fay.Cert); !strings.Contains(out, "added fay@subs.test to team@lists.test with certificate ") {
		t.Fatalf("member add --key CERT: %s", out)
	}
	if out := run("key", "ls", "fay@subs.test"); !strings.Contains(out, "x509") {
		t.Fatalf("key ls fay:\n%s", out)
	}
	if _, err := cli(t, "--config", cfg, "member", "add", "team", "eve@subs.test", "--key", filepath.Join(dir, "missing")); err == nil {
		t.Fatal("member add with a missing key file succeeded")
	}

	out = run("check")
	if !strings.Contains(out, "config OK") || !strings.Contains(out, "expiring: team@lists.test: bob@subs.test's OpenPGP key "+bfpr) ||
		!strings.Contains(out, "key_warn_days 30") || strings.Contains(out, "dan@subs.test") {
		t.Fatalf("check:\n%s", out)
	}
	run("list", "set", "team", "key_warn_days", "7")
	if out := run("check"); strings.Contains(out, "expiring:") || !strings.Contains(out, "keys OK") {
		t.Fatalf("check with key_warn_days 7:\n%s", out)
	}
	run("list", "set", "team", "key_warn_days", "30")
	// The outgoing queue holds the announcements of the keys bound above.
	announced := strings.Count(run("queue", "ls", "out"), "\n")
	if out := run("key", "check-expiry"); out != "queued 1 expiry notices\n" {
		t.Fatalf("key check-expiry: %q", out)
	}
	if out := run("key", "check-expiry"); out != "queued 0 expiry notices\n" {
		t.Fatalf("key check-expiry again: %q", out)
	}
	// One notice more waits in the outgoing queue.
	if out := run("queue", "ls", "out"); strings.Count(out, "\n") != announced+1 || !strings.Contains(out, "team@lists.test") {
		t.Fatalf("queue ls out:\n%s", out)
	}
}
