package web

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/lists"
)

// TestOwnerAppliesStyle: against the daemon run as a process, the owner
// logged in with her certificate (smime, which admin.signed accepts) sees
// each style with a preview of what it would change, applies a site style that sets only owner settings and
// sees the change and its audit entry; a style that sets encryption
// settings is refused and changes nothing; an email-token login (md5) may
// neither see the page nor apply the style.
func TestOwnerAppliesStyle(t *testing.T) {
	testdirs.Slow(t, "runs cloister web as a process (built from cmd/cloister)")
	ca := testca.Shared(t)
	annCert := ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment")
	cs := newWebSite(t, TLSFiles{ClientCA: ca.Cert})
	base := cs.startDaemon(t, "--client-ca", ca.Cert)
	md5 := cs.browser(t)
	md5.base = base
	md5.login("ann@subs.test") // before her certificate is bound: the code comes in clear
	if _, err := cs.keys.AddCert("ann@subs.test", annCert.CertPEM, keyring.UseBoth); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(filepath.Dir(cs.config), "styles")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "friendly"), []byte("title a friendly list\nset subject_prefix [friends]\nset roster members\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	list := "team@lists.test"
	settings := func() lists.Settings {
		var l *lists.List
		cs.Lists.View(func(tx *lists.Tx) error { l, _ = tx.List(list); return nil })
		return l.Settings
	}
	before := settings()

	if st, _ := md5.get("/lists/" + list + "/admin/styles"); st != http.StatusForbidden {
		t.Fatalf("styles page on an email-token login: %d, want 403", st)
	}
	if st, _, body := md5.post("/lists/"+list+"/admin/style", url.Values{"csrf": {md5.csrfOf("/me")}, "style": {"friendly"}}); st != http.StatusForbidden {
		t.Fatalf("apply on an email-token login: %d, want 403\n%s", st, body)
	}

	pair, err := tls.X509KeyPair(annCert.CertPEM, annCert.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	b := cs.browser(t, pair)
	b.base = base
	b.get("/login")
	if st, loc, body := b.post("/login/cert", url.Values{"csrf": {b.csrf()}, "address": {"ann@subs.test"}}); st != http.StatusSeeOther || loc != "/me" {
		t.Fatalf("certificate login: %d %s\n%s", st, loc, body)
	}
	st, page := b.get("/lists/" + list + "/admin/styles")
	if st != http.StatusOK {
		t.Fatalf("styles page: %d\n%s", st, page)
	}
	for _, want := range []string{
		"a friendly list <small>(this site's style)</small>", "<td>subject_prefix</td><td>" + before.SubjectPrefix + "</td><td><strong>[friends]</strong></td>",
		"<td>roster</td><td>owners</td><td><strong>members</strong></td>",
		"encrypted list (S/MIME)", "smime_post_encrypt <small>(site's operator only)</small>",
		`name="style" value="friendly"`, "Only the site's operator can apply this style: it sets smime_post_encrypt",
	} {
		if !strings.Contains(page, want) {
			t.Fatalf("styles page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `name="style" value="encrypted-smime"`) {
		t.Fatal("the page offers the owner a style that sets encryption settings")
	}

	st, _, body := b.post("/lists/"+list+"/admin/style", url.Values{"csrf": {b.csrf()}, "style": {"encrypted-smime"}})
	if st != http.StatusForbidden || !strings.Contains(body, "smime_post_encrypt") {
		t.Fatalf("apply encrypted-smime: %d, want 403 naming smime_post_encrypt\n%s", st, body)
	}
	if got := settings(); got != before {
		t.Fatalf("a refused style changed the settings: %+v", got)
	}

	st, loc, body := b.post("/lists/"+list+"/admin/style", url.Values{"csrf": {b.csrfOf("/lists/" + list + "/admin/styles")}, "style": {"friendly"}})
	if st != http.StatusSeeOther || loc != "/lists/"+list+"/admin/styles" {
		t.Fatalf("apply friendly: %d %s\n%s", st, loc, body)
	}
	if got := settings(); got.SubjectPrefix != "[friends]" || got.Roster != "members" {
		t.Fatalf("style not applied: prefix %q roster %q", got.SubjectPrefix, got.Roster)
	}
	if _, page := b.get("/lists/" + list + "/admin"); !strings.Contains(page, `value="[friends]"`) {
		t.Fatalf("the settings page does not show the style's change:\n%s", page)
	}
	_, audit := b.get("/lists/" + list + "/audit")
	for _, want := range []string{"<td>list.style</td><td>friendly</td><td>ok</td>", "<td>list.style</td><td>encrypted-smime</td><td>forbidden"} {
		if !strings.Contains(audit, want) {
			t.Fatalf("audit log lacks %q:\n%s", want, audit)
		}
	}
}
