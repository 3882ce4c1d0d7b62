package runners

import (
	"bytes"
	"fmt"
	"mime"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/keyexpiry"
	"cloister/keyring"
	"cloister/lists"
	"cloister/queue"
)

// expirySite is the test site with a real keyring: the list's OpenPGP key
// (made by gpg) expires in 20 days, bob's key in 10 days, cat's
// certificate (made by openssl) ends in 10 days; ann, the owner, has no
// key. It returns the GnuPG homes of the list and of bob.
func expirySite(t *testing.T) (s *testSite, k *keyring.Keyring, list, bob *gnupg.Home) {
	t.Helper()
	s = newTestSite(t)
	k = s.useKeyring(t)

	list = gnupg.New(t)
	list.Run(nil, "--quick-gen-key", "team <team@lists.test>", "ed25519", "sign,cert", "20d")
	lfpr := list.Fingerprint("team@lists.test")
	list.Run(nil, "--quick-add-key", lfpr, "cv25519", "encr", "20d")
	if _, err := k.ImportOpenPGPSecret("team@lists.test", list.ExportSecret("team@lists.test"), nil); err != nil {
		t.Fatal(err)
	}

	bob = gnupg.New(t)
	bob.Run(nil, "--quick-gen-key", "Bob <bob@subs.test>", "ed25519", "sign,cert", "10d")
	bfpr := bob.Fingerprint("bob@subs.test")
	bob.Run(nil, "--quick-add-key", bfpr, "cv25519", "encr", "10d")
	bob.Import(list.ExportPublic("team@lists.test"))
	if _, err := k.AddOpenPGP("bob@subs.test", bob.ExportPublic("bob@subs.test"), false); err != nil {
		t.Fatal(err)
	}

	ca := testca.New(t)
	key, csr, ext, pem := filepath.Join(ca.Dir, "cat.key"), filepath.Join(ca.Dir, "cat.csr"), filepath.Join(ca.Dir, "cat.ext"), filepath.Join(ca.Dir, "cat.pem")
	ca.Run(nil, "req", "-new", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", csr, "-subj", "/CN=Cat")
	os.WriteFile(ext, []byte("basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyEncipherment\n"+
		"extendedKeyUsage=emailProtection\nsubjectAltName=email:cat@subs.test\n"), 0o600)
	ca.Run(nil, "x509", "-req", "-in", csr, "-CA", ca.Cert, "-CAkey", ca.Key, "-set_serial", "7", "-days", "10",
		"-sha256", "-extfile", ext, "-out", pem)
	certPEM, err := os.ReadFile(pem)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := k.AddCert("cat@subs.test", certPEM, keyring.UseBoth); err != nil {
		t.Fatal(err)
	}
	return s, k, list, bob
}

// setSettings changes settings of team@lists.test.
func (s *testSite) setSettings(t *testing.T, kv ...string) {
	t.Helper()
	err := s.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		for i := 0; i+1 < len(kv); i += 2 {
			if err := l.Settings.Set(kv[i], kv[i+1]); err != nil {
				return err
			}
		}
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// verifySigned checks a multipart/signed PGP/MIME message with gpg and
// returns the signed part.
func verifySigned(t *testing.T, h *gnupg.Home, msg []byte) []byte {
	t.Helper()
	head, body, ok := bytes.Cut(msg, []byte("\r\n\r\n"))
	if !ok {
		head, body, _ = bytes.Cut(msg, []byte("\n\n"))
	}
	var ct string
	for _, l := range strings.Split(strings.ReplaceAll(strings.ReplaceAll(string(head), "\r\n", "\n"), "\n ", " "), "\n") {
		if name, v, ok := strings.Cut(l, ":"); ok && strings.EqualFold(name, "Content-Type") {
			ct = strings.TrimSpace(v)
		}
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "multipart/signed" {
		t.Fatalf("not multipart/signed (%q, %v):\n%s", ct, err, msg)
	}
	body = bytes.ReplaceAll(bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n")), []byte("\n"), []byte("\r\n"))
	delim := []byte("--" + params["boundary"])
	parts := bytes.Split(body, delim)
	if len(parts) < 3 {
		t.Fatalf("multipart/signed with %d parts:\n%s", len(parts)-1, msg)
	}
	signed := bytes.TrimSuffix(bytes.TrimPrefix(parts[1], []byte("\r\n")), []byte("\r\n"))
	sig := parts[2][bytes.Index(parts[2], []byte("-----BEGIN PGP SIGNATURE")):]
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "signed"), signed, 0o600)
	os.WriteFile(filepath.Join(dir, "sig.asc"), sig, 0o600)
	if _, status, err := h.Exec(nil, "--verify", filepath.Join(dir, "sig.asc"), filepath.Join(dir, "signed")); err != nil ||
		!strings.Contains(status, "GOODSIG") {
		t.Fatalf("gpg does not verify the list's signature: %v\n%s", err, status)
	}
	return signed
}

// TestKeyExpiryNotices: through the runners, the owner hears of the
// list key, bob (encrypted to his key) of his key, cat of her certificate,
// each notice signed by the list; a second run sends nothing; cert_warn_days
// and key_warn_days decide who is due.
func TestKeyExpiryNotices(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, k, listHome, bob := expirySite(t)
	now := time.Now()

	// cat's certificate ends in 10 days: not due with cert_warn_days 5.
	s.setSettings(t, "cert_warn_days", "5")
	sent, err := keyexpiry.KeyExpiryNotices(s.Site, now)
	if err != nil || sent != 2 {
		t.Fatalf("first run: sent %d, %v; want 2 (ann for the list key, bob)", sent, err)
	}
	s.drain(t)
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 0 {
		t.Fatalf("cat was warned %d days early:\n%s", 10, box[0])
	}

	ann := s.mailbox(t, "ann@subs.test")
	if len(ann) != 1 {
		t.Fatalf("ann received %d messages", len(ann))
	}
	signed := verifySigned(t, bob, ann[0]) // bob's home holds the list's public key
	for _, want := range []string{"The OpenPGP key of team@lists.test expires on", "Auto-Submitted: auto-replied"} {
		if !bytes.Contains(ann[0], []byte(want)) {
			t.Errorf("ann's notice lacks %q:\n%s", want, ann[0])
		}
	}
	if lfpr := listHome.Fingerprint("team@lists.test"); !bytes.Contains(signed, []byte(lfpr)) || !bytes.Contains(signed, []byte("cloister key generate team@lists.test")) {
		t.Errorf("ann's notice does not name the key %s or the way out:\n%s", lfpr, signed)
	}

	box := s.mailbox(t, "bob@subs.test")
	if len(box) != 1 {
		t.Fatalf("bob received %d messages", len(box))
	}
	if !bytes.Contains(box[0], []byte("multipart/encrypted")) || bytes.Contains(box[0], []byte("quick-set-expire")) {
		t.Fatalf("bob's notice is not encrypted to his key:\n%s", box[0])
	}
	pt, status, err := bob.Decrypt(armoredPart(t, box[0]))
	if err != nil {
		t.Fatalf("bob cannot decrypt his notice: %v\n%s", err, status)
	}
	if !strings.Contains(status, "GOODSIG") || !strings.Contains(status, "team@lists.test") {
		t.Fatalf("bob's notice is not signed by the list:\n%s", status)
	}
	bfpr := bob.Fingerprint("bob@subs.test")
	if !bytes.Contains(pt, []byte("gpg --quick-set-expire "+bfpr+" 1y")) || !bytes.Contains(pt, []byte("Your OpenPGP key expires on")) {
		t.Fatalf("bob's notice:\n%s", pt)
	}

	// Nothing new: nothing sent.
	if sent, err := keyexpiry.KeyExpiryNotices(s.Site, now.Add(time.Hour)); err != nil || sent != 0 {
		t.Fatalf("second run: sent %d, %v; want 0", sent, err)
	}

	// cert_warn_days 30: cat's certificate is due now; the others were warned.
	s.setSettings(t, "cert_warn_days", "30")
	if sent, err := keyexpiry.KeyExpiryNotices(s.Site, now.Add(2*time.Hour)); err != nil || sent != 1 {
		t.Fatalf("third run: sent %d, %v; want 1 (cat)", sent, err)
	}
	s.drain(t)
	cat := s.mailbox(t, "cat@subs.test")
	if len(cat) != 1 {
		t.Fatalf("cat received %d messages", len(cat))
	}
	signed = verifySigned(t, bob, cat[0])
	if !bytes.Contains(signed, []byte("S/MIME certificate")) || !bytes.Contains(signed, []byte("in 10 days")) {
		t.Fatalf("cat's notice:\n%s", signed)
	}
	if n := len(s.mailbox(t, "ann@subs.test")) + len(s.mailbox(t, "bob@subs.test")); n != 2 {
		t.Fatalf("ann and bob have %d messages after the later runs, want 2", n)
	}
	if n, err := k.ExpiryNoticesSent(); err != nil || n != 3 {
		t.Fatalf("%d notices recorded, %v; want 3", n, err)
	}
	if bad := s.badReasons(t); len(bad) != 0 {
		t.Fatalf("bad: %q", bad)
	}
}

// TestKeyExpiryWarnDaysOff: key_warn_days and cert_warn_days 0 warn nobody.
func TestKeyExpiryWarnDaysOff(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, _, _, _ := expirySite(t)
	s.setSettings(t, "key_warn_days", "0", "cert_warn_days", "0")
	if sent, err := keyexpiry.KeyExpiryNotices(s.Site, time.Now()); err != nil || sent != 0 {
		t.Fatalf("sent %d, %v; want 0", sent, err)
	}
	// Seven days on, bob's key (10 days) is within a 5-day window; the list key
	// (20 days) is not.
	s.setSettings(t, "key_warn_days", "5")
	sent, err := keyexpiry.KeyExpiryNotices(s.Site, time.Now().Add(7*24*time.Hour))
	if err != nil || sent != 1 {
		t.Fatalf("sent %d, %v; want 1", sent, err)
	}
	names, _ := s.Queue(queue.Out).Pending(queue.All)
	if len(names) != 1 {
		t.Fatalf("out holds %v", names)
	}
	e, _ := s.Queue(queue.Out).Peek(names[0])
	if fmt.Sprint(e.Meta.Recipients) != "[bob@subs.test]" || e.Meta.Kind != "notice" {
		t.Fatalf("queued %+v", e.Meta)
	}
}

// TestKeyExpiryAfterExtension: bob extends his key with gpg
// --quick-set-expire; the key with its new date is warned of again (once),
// and not at all once the new date is beyond key_warn_days.
func TestKeyExpiryAfterExtension(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, k, _, bob := expirySite(t)
	s.setSettings(t, "cert_warn_days", "0")
	now := time.Now()
	run := func(at time.Time, want int) {
		t.Helper()
		if sent, err := keyexpiry.KeyExpiryNotices(s.Site, at); err != nil || sent != want {
			t.Fatalf("sent %d, %v; want %d", sent, err, want)
		}
	}
	run(now, 2) // the owner for the list key, bob for his
	extend := func(period string) {
		t.Helper()
		fpr := bob.Fingerprint("bob@subs.test")
		bob.Run(nil, "--quick-set-expire", fpr, period)
		bob.Run(nil, "--quick-set-expire", fpr, period, "*")
		if _, err := k.AddOpenPGP("bob@subs.test", bob.ExportPublic("bob@subs.test"), false); err != nil {
			t.Fatal(err)
		}
	}
	extend("25d")
	run(now.Add(time.Minute), 1)
	run(now.Add(2*time.Minute), 0)
	extend("1y")
	run(now.Add(3*time.Minute), 0)
	s.drain(t)
	if box := s.mailbox(t, "bob@subs.test"); len(box) != 2 {
		t.Fatalf("bob received %d notices, want 2", len(box))
	}
}
