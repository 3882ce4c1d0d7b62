package web

import (
	"net/http"
	"net/url"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestAttackSignOnlyKeyChangeNeedsOldSignature: against the daemon run as
// a process, a member whose bound OpenPGP key can sign but has no
// encryption subkey is still asked for that key's signature to change it:
// whoever reads the member's mailbox logs in by email token and cannot
// swap in a key of their own with its signature alone.
func TestAttackSignOnlyKeyChangeNeedsOldSignature(t *testing.T) {
	testdirs.Slow(t, "runs the daemon as a process, with keys made by gpg")
	ws := newWebSite(t, TLSFiles{})
	oldH := gnupg.New(t)
	oldH.Run(nil, "--quick-gen-key", "Bob <bob@subs.test>", "ed25519", "sign,cert", "0")
	oldFpr := oldH.Fingerprint("Bob <bob@subs.test>")
	if _, err := ws.keys.AddOpenPGP("bob@subs.test", oldH.ExportPublic(oldFpr), true); err != nil {
		t.Fatal(err)
	}
	evil := gnupg.New(t)
	evilFpr := evil.GenKey("Bob <bob@subs.test>", "cv25519")
	base := ws.startDaemon(t)
	b := ws.browser(t)
	b.base = base
	b.login("bob@subs.test")
	id, text, needsOld := b.offerKey(evil.ExportPublic(evilFpr))
	if !needsOld {
		t.Errorf("changing a bound sign-only key does not ask for its signature")
	}
	st, _, body := b.post("/me/key/verify", url.Values{"csrf": {b.csrfOf("/me/key")}, "list": {"team@lists.test"}, "id": {id},
		"signature": {clearsign(evil, evilFpr, text)}})
	if st == http.StatusSeeOther {
		t.Fatalf("the new key's signature alone replaced the bound sign-only key\n%s", body)
	}
	if got := ws.keyOf(t, "bob@subs.test"); got == evilFpr {
		t.Fatalf("the attacker's key is bound")
	}
	// Its holder changes it with both signatures.
	newH := gnupg.New(t)
	newFpr := newH.GenKey("Bob <bob@subs.test>", "cv25519")
	id, text, _ = b.offerKey(newH.ExportPublic(newFpr))
	st, _, body = b.post("/me/key/verify", url.Values{"csrf": {b.csrfOf("/me/key")}, "list": {"team@lists.test"}, "id": {id},
		"signature": {clearsign(newH, newFpr, text)}, "old_signature": {clearsign(oldH, oldFpr, text)}})
	if st != http.StatusSeeOther || ws.keyOf(t, "bob@subs.test") != newFpr {
		t.Fatalf("the change signed by the sign-only key and the new one: %d (bound %q)\n%s", st, ws.keyOf(t, "bob@subs.test"), body)
	}
}
