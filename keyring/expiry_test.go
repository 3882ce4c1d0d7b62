package keyring

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/config"
	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// opensslDate formats t as openssl ca's -startdate/-enddate want it.
func opensslDate(t time.Time) string { return t.UTC().Format("060102150405Z") }

// expiringKeyring fills a keyring with gpg-made keys and openssl-made
// certificates of various lifetimes:
//
//	ann@subs.test  OpenPGP, primary and encryption subkey expire in 10 days
//	bob@subs.test  OpenPGP, primary never, encryption subkey expires in 5 days
//	cat@subs.test  OpenPGP, expires in a year
//	dan@subs.test  OpenPGP, one key expiring in 10 days and a newer one that never does
//	eve@subs.test  certificate ending in 12 days; fay@subs.test one ending in a year
//	team@lists.test  list key expiring in 20 days, list certificate ending in 25 days
//	open@lists.test  list key without expiry
func expiringKeyring(t *testing.T) (*Keyring, map[string]string) {
	t.Helper()
	k := newKeyring(t)
	g := gnupg.New(t)
	fprs := map[string]string{}
	add := func(addr string) {
		t.Helper()
		fpr, err := k.AddOpenPGP(addr, g.Run(nil, "--export", fprs[addr]), false)
		if err != nil {
			t.Fatal(err)
		}
		if fpr != fprs[addr] {
			t.Fatalf("%s: stored %s, made %s", addr, fpr, fprs[addr])
		}
	}
	gen := func(uid, primaryExp, subExp string) string {
		t.Helper()
		g.Run(nil, "--quick-gen-key", uid, "ed25519", "sign,cert", primaryExp)
		fpr := g.Fingerprint(uid)
		g.Run(nil, "--quick-add-key", fpr, "cv25519", "encr", subExp)
		return fpr
	}
	fprs["ann@subs.test"] = gen("Ann <ann@subs.test>", "10d", "10d")
	add("ann@subs.test")
	fprs["bob@subs.test"] = gen("Bob <bob@subs.test>", "0", "5d")
	add("bob@subs.test")
	fprs["cat@subs.test"] = gen("Cat <cat@subs.test>", "1y", "1y")
	add("cat@subs.test")
	old := gen("Dan <dan@subs.test>", "10d", "10d")
	if _, err := k.AddOpenPGP("dan@subs.test", g.Run(nil, "--export", old), false); err != nil {
		t.Fatal(err)
	}
	// A second user ID string keeps gpg from picking the old key.
	fprs["dan@subs.test"] = gen("Dan (new) <dan@subs.test>", "0", "0")
	add("dan@subs.test")
	fprs["dan-old"] = old

	// The list key: a gpg-made secret key with an expiry.
	fprs["team@lists.test"] = gen("team <team@lists.test>", "20d", "20d")
	if _, err := k.ImportOpenPGPSecret("team@lists.test", g.Run(nil, "--export-secret-keys", fprs["team@lists.test"]), nil); err != nil {
		t.Fatal(err)
	}
	var err error
	if fprs["open@lists.test"], err = k.GenerateOpenPGP("open@lists.test", "", AlgoCurve25519); err != nil {
		t.Fatal(err)
	}

	p := newPKI(t, "Expiry CA")
	now := time.Now()
	for _, c := range []struct {
		name, addr string
		days       int
	}{{"eve", "eve@subs.test", 12}, {"fay", "fay@subs.test", 365}} {
		pem := p.leaf(c.name, c.addr, "leaf", opensslDate(now.Add(-time.Hour)), opensslDate(now.Add(time.Duration(c.days)*24*time.Hour)))
		fpr, err := k.AddCert(c.addr, pem, UseBoth)
		if err != nil {
			t.Fatal(err)
		}
		fprs[c.addr] = fpr
	}
	pem := p.leaf("team", "team@lists.test", "leaf", opensslDate(now.Add(-time.Hour)), opensslDate(now.Add(25*24*time.Hour)))
	fpr, err := k.ImportSMIME("team@lists.test", append(pem, p.read("team.key")...), "")
	if err != nil {
		t.Fatal(err)
	}
	fprs["team@lists.test/x509"] = fpr
	return k, fprs
}

func TestExpiring(t *testing.T) {
	testdirs.Slow(t, "runs gpg and openssl to make expiring keys")
	k, fprs := expiringKeyring(t)
	now := time.Now()
	day := 24 * time.Hour
	describe := func(list []ExpiringKey) []string {
		var out []string
		for _, e := range list {
			who := "member"
			if e.List {
				who = "list"
			}
			out = append(out, e.Address+" "+who+" "+string(e.Kind)+" "+e.Fingerprint)
		}
		return out
	}
	for _, tc := range []struct {
		name   string
		at     time.Time
		within time.Duration
		want   []string
	}{
		{"30 days", now, 30 * day, []string{
			"team@lists.test list pgp " + fprs["team@lists.test"],
			"team@lists.test list x509 " + fprs["team@lists.test/x509"],
			"ann@subs.test member pgp " + fprs["ann@subs.test"],
			"bob@subs.test member pgp " + fprs["bob@subs.test"],
			"eve@subs.test member x509 " + fprs["eve@subs.test"],
		}},
		{"7 days", now, 7 * day, []string{"bob@subs.test member pgp " + fprs["bob@subs.test"]}},
		{"none within a day", now, day, nil},
		// After 11 days, ann's and bob's keys have expired: they are no
		// longer expiring, and key ls says expired.
		{"11 days on", now.Add(11 * day), 30 * day, []string{
			"team@lists.test list pgp " + fprs["team@lists.test"],
			"team@lists.test list x509 " + fprs["team@lists.test/x509"],
			"eve@subs.test member x509 " + fprs["eve@subs.test"],
		}},
		{"400 days", now, 400 * day, []string{
			"team@lists.test list pgp " + fprs["team@lists.test"],
			"team@lists.test list x509 " + fprs["team@lists.test/x509"],
			"ann@subs.test member pgp " + fprs["ann@subs.test"],
			"bob@subs.test member pgp " + fprs["bob@subs.test"],
			"cat@subs.test member pgp " + fprs["cat@subs.test"],
			"eve@subs.test member x509 " + fprs["eve@subs.test"],
			"fay@subs.test member x509 " + fprs["fay@subs.test"],
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := k.Expiring(tc.at, tc.within)
			if err != nil {
				t.Fatal(err)
			}
			if d := describe(got); !slices.Equal(d, tc.want) {
				t.Fatalf("expiring:\n%s\nwant:\n%s", strings.Join(d, "\n"), strings.Join(tc.want, "\n"))
			}
			for _, e := range got {
				if !e.Ends.After(tc.at) || e.Ends.After(tc.at.Add(tc.within)) {
					t.Errorf("%s ends %v, outside (%v, %v]", e.Address, e.Ends, tc.at, tc.at.Add(tc.within))
				}
			}
		})
	}
	// Bob's key ends with its encryption subkey, not its primary key.
	got, _ := k.Expiring(now, 30*day)
	for _, e := range got {
		switch e.Address {
		case "bob@subs.test":
			if !e.Expires.IsZero() || e.Ends.After(now.Add(6*day)) {
				t.Errorf("bob: expires %v, ends %v; want a primary without expiry and a subkey ending within 6 days", e.Expires, e.Ends)
			}
		case "ann@subs.test":
			if e.Ends.Before(now.Add(9*day)) || e.Ends.After(now.Add(11*day)) {
				t.Errorf("ann ends %v, want in about 10 days", e.Ends)
			}
		}
	}
}

// TestExpiryNoticeRecords: a notice is claimed once per key, expiry and
// recipient; released, it can be claimed again; pruned after the expiry.
func TestExpiryNoticeRecords(t *testing.T) {
	k := newKeyring(t)
	now := time.Now()
	ends := now.Add(10 * 24 * time.Hour)
	claim := func(fpr string, ends time.Time, to string) bool {
		t.Helper()
		ok, err := k.ClaimExpiryNotice(fpr, ends, to, now)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if n, err := k.ExpiryNoticesSent(); err != nil || n != 0 {
		t.Fatalf("fresh keyring holds %d records, %v", n, err)
	}
	steps := []struct {
		fpr  string
		ends time.Time
		to   string
		want bool
	}{
		{"AAAA", ends, "ann@subs.test", true},
		{"AAAA", ends, "Ann@Subs.test", false},                          // same recipient
		{"AAAA", ends, "bob@subs.test", true},                           // another owner
		{"AAAA", ends.Add(365 * 24 * time.Hour), "ann@subs.test", true}, // the key was extended
		{"BBBB", ends, "ann@subs.test", true},
	}
	for i, s := range steps {
		if got := claim(s.fpr, s.ends, s.to); got != s.want {
			t.Errorf("step %d: claim = %v, want %v", i, got, s.want)
		}
	}
	if err := k.ReleaseExpiryNotice("BBBB", ends, "ann@subs.test"); err != nil {
		t.Fatal(err)
	}
	if !claim("BBBB", ends, "ann@subs.test") {
		t.Error("a released notice cannot be claimed again")
	}
	n, err := k.PruneExpiryNotices(ends.Add(time.Hour))
	if err != nil || n != 3 {
		t.Fatalf("pruned %d, %v; want 3", n, err)
	}
	if left, _ := k.ExpiryNoticesSent(); left != 1 {
		t.Fatalf("%d records left, want 1", left)
	}
}

// TestReloadTrust: a CRL written after the keyring was opened counts once
// the trust is reloaded; a broken CRL directory keeps the trust in use.
func TestReloadTrust(t *testing.T) {
	testdirs.Slow(t, "runs openssl to make certificates")
	k := newKeyring(t)
	p := newPKI(t, "Reload CA")
	pem := p.leaf("gus", "gus@subs.test", "leaf", "", "")
	fpr, err := k.AddCert("gus@subs.test", pem, UseBoth)
	if err != nil {
		t.Fatal(err)
	}
	crlDir := t.TempDir()
	cfg := &config.Config{SMIMECAFile: filepath.Join(p.dir, "ca.pem"), SMIMECRLDir: crlDir}
	state := func() State {
		t.Helper()
		ents, err := k.Entries(time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range ents {
			if e.Fingerprint == fpr {
				return e.State
			}
		}
		t.Fatalf("no entry %s", fpr)
		return ""
	}
	if err := k.ReloadTrust(cfg); err != nil || state() != StateOK {
		t.Fatalf("before the CRL: %v, state %s", err, state())
	}
	if err := os.WriteFile(filepath.Join(crlDir, "ca.crl"), p.revokeCert("gus"), 0o600); err != nil {
		t.Fatal(err)
	}
	if state() != StateOK {
		t.Fatal("the CRL counted before the reload")
	}
	if err := k.ReloadTrust(cfg); err != nil || state() != StateRevoked {
		t.Fatalf("after the reload: %v, state %s", err, state())
	}
	os.WriteFile(filepath.Join(crlDir, "junk.crl"), []byte("not a CRL"), 0o600)
	if err := k.ReloadTrust(cfg); err == nil || state() != StateRevoked {
		t.Fatalf("a broken CRL directory: %v, state %s", err, state())
	}
}

// BenchmarkExpiring measures the daily scan over a keyring of 1,000
// Curve25519 subscriber keys, half of them expiring in 10 days (keys
// already parsed, as in a running process).
func BenchmarkExpiring(b *testing.B) {
	k := newKeyring(b)
	const n = 1000
	for i := range n {
		cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519}
		if i%2 == 0 {
			cfg.KeyLifetimeSecs = 10 * 24 * 3600
		}
		addr := fmt.Sprintf("s%d@subs.test", i)
		e, err := openpgp.NewEntity("S", "", addr, cfg)
		if err != nil {
			b.Fatal(err)
		}
		pub, _ := armorEntity(e)
		if _, err := k.AddOpenPGP(addr, pub, false); err != nil {
			b.Fatal(err)
		}
	}
	now := time.Now()
	got, err := k.Expiring(now, 30*24*time.Hour)
	if err != nil || len(got) != n/2 {
		b.Fatalf("%d expiring, %v; want %d", len(got), err, n/2)
	}
	for b.Loop() {
		if _, err := k.Expiring(now, 30*24*time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}
