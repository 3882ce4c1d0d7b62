package web

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/gnupg"
)

var (
	challengeID   = regexp.MustCompile(`name="id" value="([^"]+)"`)
	challengeText = regexp.MustCompile(`(?s)<pre id="challenge">(.*?)</pre>`)
)

// offerKey posts a public key to the challenge form and returns the
// challenge's ID and text, and whether the old key's signature is asked.
func (b *browser) offerKey(pub []byte) (id, text string, needsOld bool) {
	b.t.Helper()
	st, _, page := b.post("/me/key/challenge", url.Values{"csrf": {b.csrfOf("/me/key")}, "list": {"team@lists.test"}, "key": {string(pub)}})
	idm, tm := challengeID.FindStringSubmatch(page), challengeText.FindStringSubmatch(page)
	if st != http.StatusOK || idm == nil || tm == nil {
		b.t.Fatalf("key challenge: %d\n%s", st, page)
	}
	return idm[1], htmlText(tm[1]), strings.Contains(page, `name="old_signature"`)
}

func htmlText(s string) string {
	return strings.NewReplacer("&lt;", "<", "&gt;", ">", "&#34;", `"`, "&#39;", "'", "&amp;", "&").Replace(s)
}

func clearsign(h *gnupg.Home, fpr, text string) string {
	return string(h.Run([]byte(text), "--local-user", fpr, "--clearsign"))
}

// keyOf returns the OpenPGP fingerprint bound to addr, or "".
func (ws *webSite) keyOf(t *testing.T, addr string) string {
	t.Helper()
	e, err := ws.keys.EncryptionKeyPGP(addr, ws.clock.now())
	if err != nil {
		return ""
	}
	return strings.ToUpper(strings.ReplaceAll(strings.TrimSpace(fmtFpr(e.PrimaryKey.Fingerprint)), " ", ""))
}

func fmtFpr(b []byte) string {
	const hex = "0123456789ABCDEF"
	out := make([]byte, 0, 2*len(b))
	for _, c := range b {
		out = append(out, hex[c>>4], hex[c&15])
	}
	return string(out)
}

// TestKeyFirstWithProof: a member logged in by email token sets a first
// OpenPGP key by signing the challenge with it (gpg --clearsign); a
// signature by another key is refused.
func TestKeyFirstWithProof(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	bob := gnupg.New(t)
	fpr := bob.GenKey("Bob <bob@subs.test>", "cv25519")
	other := gnupg.New(t)
	ofpr := other.GenKey("Bob <bob@subs.test>", "cv25519")
	b := ws.browser(t)
	b.login("bob@subs.test")

	id, text, needsOld := b.offerKey(bob.ExportPublic(fpr))
	if needsOld {
		t.Fatal("a first key asks for an old key's signature")
	}
	st, _, _ := b.post("/me/key/verify", url.Values{"csrf": {b.csrfOf("/me/key")}, "list": {"team@lists.test"}, "id": {id}, "signature": {clearsign(other, ofpr, text)}})
	if st == http.StatusSeeOther || ws.keyOf(t, "bob@subs.test") != "" {
		t.Fatalf("a signature by another key set the key (%d)", st)
	}
	id, text, _ = b.offerKey(bob.ExportPublic(fpr))
	st, loc, body := b.post("/me/key/verify", url.Values{"csrf": {b.csrfOf("/me/key")}, "list": {"team@lists.test"}, "id": {id}, "signature": {clearsign(bob, fpr, text)}})
	if st != http.StatusSeeOther || loc != "/me/key" {
		t.Fatalf("verify: %d %s\n%s", st, loc, body)
	}
	if got := ws.keyOf(t, "bob@subs.test"); got != fpr {
		t.Fatalf("bound key %q, want %s", got, fpr)
	}
	if _, page := b.get("/me/key"); !strings.Contains(page, fpr) {
		t.Fatalf("my key page does not show the key:\n%s", page)
	}
}

// TestKeyChangeNeedsOldKeySignature (security invariant 3): a member whose
// key is bound changes it on the web only with the challenge signed by the
// new key and by the old one; the new key's signature alone, or a third
// key's in place of the old one, is refused and the old key stays.
func TestKeyChangeNeedsOldKeySignature(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	oldH, newH, evil := gnupg.New(t), gnupg.New(t), gnupg.New(t)
	oldFpr := oldH.GenKey("Bob <bob@subs.test>", "cv25519")
	newFpr := newH.GenKey("Bob <bob@subs.test>", "cv25519")
	evilFpr := evil.GenKey("Bob <bob@subs.test>", "cv25519")
	if _, err := ws.keys.AddOpenPGP("bob@subs.test", oldH.ExportPublic(oldFpr), true); err != nil {
		t.Fatal(err)
	}
	b := ws.browser(t)
	b.loginIssued("bob@subs.test") // the login mail is encrypted to the old key
	for _, tc := range []struct {
		name string
		old  func(text string) string
	}{
		{"new key only", func(string) string { return "" }},
		{"third key as the old", func(text string) string { return clearsign(evil, evilFpr, text) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, text, needsOld := b.offerKey(newH.ExportPublic(newFpr))
			if !needsOld {
				t.Fatal("changing a bound key does not ask for the old key's signature")
			}
			st, _, _ := b.post("/me/key/verify", url.Values{"csrf": {b.csrfOf("/me/key")}, "list": {"team@lists.test"}, "id": {id},
				"signature": {clearsign(newH, newFpr, text)}, "old_signature": {tc.old(text)}})
			if st == http.StatusSeeOther {
				t.Fatalf("the change was accepted")
			}
			if got := ws.keyOf(t, "bob@subs.test"); got != oldFpr {
				t.Fatalf("bound key %q, want the old %s", got, oldFpr)
			}
		})
	}
	id, text, _ := b.offerKey(newH.ExportPublic(newFpr))
	st, _, body := b.post("/me/key/verify", url.Values{"csrf": {b.csrfOf("/me/key")}, "list": {"team@lists.test"}, "id": {id},
		"signature": {clearsign(newH, newFpr, text)}, "old_signature": {clearsign(oldH, oldFpr, text)}})
	if st != http.StatusSeeOther {
		t.Fatalf("the change signed by both keys: %d\n%s", st, body)
	}
	if got := ws.keyOf(t, "bob@subs.test"); got != newFpr {
		t.Fatalf("bound key %q, want the new %s", got, newFpr)
	}
}
