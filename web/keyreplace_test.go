package web

import (
	"net/http"
	"net/url"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestAttackEmailLoginOwnerCannotChangeSetKey: an owner logged in by email
// token (md5: whoever reads her mailbox), on a list whose admin scenario
// accepts md5, cannot replace or revoke a key that is on file, her own or
// a member's, from the owner pages (against the daemon run as a process):
// a key on file changes only with its holder's old key's signature (the
// "My key" page) or on the authority of a signed login. She still adds a
// first key for a member who has none.
func TestAttackEmailLoginOwnerCannotChangeSetKey(t *testing.T) {
	testdirs.Slow(t, "runs cloister web as a process (built from cmd/cloister)")
	ws := newWebSite(t, TLSFiles{})
	ws.setSetting(t, "team@lists.test", "admin", "admin.owner_confirmed")
	base := ws.startDaemon(t)
	ann := ws.browser(t)
	ann.base = base
	ann.login("ann@subs.test") // before her key is bound: the code comes in clear

	holders := map[string]*gnupg.Home{}
	bound := map[string]string{}
	for _, who := range []struct{ addr, uid string }{{"ann@subs.test", "Ann <ann@subs.test>"}, {"bob@subs.test", "Bob <bob@subs.test>"}} {
		h := gnupg.New(t)
		fpr := h.GenKey(who.uid, "cv25519")
		if _, err := ws.keys.AddOpenPGP(who.addr, h.ExportPublic(fpr), true); err != nil {
			t.Fatal(err)
		}
		holders[who.addr], bound[who.addr] = h, fpr
	}
	evil := gnupg.New(t)
	evilAnn := evil.GenKey("Ann <ann@subs.test>", "cv25519")
	evilBob := evil.GenKey("Bob <bob@subs.test>", "cv25519")
	keysPage := "/lists/team@lists.test/keys"
	for _, tc := range []struct {
		name, path, addr string
		form             url.Values
	}{
		{"replace a member's key", "/keys/add", "bob@subs.test", url.Values{"key": {string(evil.ExportPublic(evilBob))}}},
		{"replace her own key", "/keys/add", "ann@subs.test", url.Values{"key": {string(evil.ExportPublic(evilAnn))}}},
		{"revoke a member's key", "/keys/revoke", "bob@subs.test", url.Values{"fingerprint": {bound["bob@subs.test"]}}},
		{"revoke every key of a member", "/keys/revoke", "bob@subs.test", url.Values{}},
		{"revoke her own key", "/keys/revoke", "ann@subs.test", url.Values{"fingerprint": {bound["ann@subs.test"]}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.form.Set("csrf", ann.csrfOf(keysPage))
			tc.form.Set("address", tc.addr)
			st, loc, body := ann.post("/lists/team@lists.test"+tc.path, tc.form)
			if got := ws.keyOf(t, tc.addr); got != bound[tc.addr] || st == http.StatusSeeOther {
				t.Fatalf("%s by an email login: %d %s, bound key %q, want %s still\n%s", tc.name, st, loc, got, bound[tc.addr], body)
			}
		})
	}
	cat := gnupg.New(t)
	catFpr := cat.GenKey("Cat <cat@subs.test>", "cv25519")
	st, _, body := ann.post("/lists/team@lists.test/keys/add", url.Values{"csrf": {ann.csrfOf(keysPage)}, "address": {"cat@subs.test"}, "key": {string(cat.ExportPublic(catFpr))}})
	if st != http.StatusSeeOther || ws.keyOf(t, "cat@subs.test") != catFpr {
		t.Fatalf("a first key for a member without one: %d (bound %q)\n%s", st, ws.keyOf(t, "cat@subs.test"), body)
	}
}
