package web

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/lists"
	"cloister/rules"
	"cloister/service"
)

// certSite is a web site accepting client certificates of a test CA, with
// ann's (the owner's) S/MIME certificate bound in the keyring.
type certSite struct {
	*webSite
	ca  *testca.CA
	ann *testca.Leaf
}

func newCertSite(t *testing.T) *certSite {
	t.Helper()
	ca := testca.Shared(t)
	ann := ca.Issue("ann@subs.test", "rsa", "digitalSignature,keyEncipherment")
	ws := newWebSite(t, TLSFiles{ClientCA: ca.Cert})
	if _, err := ws.keys.AddCert("ann@subs.test", ann.CertPEM, keyring.UseBoth); err != nil {
		t.Fatal(err)
	}
	return &certSite{webSite: ws, ca: ca, ann: ann}
}

// certLogin returns a browser logged in with the leaf's certificate (smime).
func (cs *certSite) certLogin(t *testing.T, l *testca.Leaf) *browser {
	t.Helper()
	pair, err := tls.X509KeyPair(l.CertPEM, l.KeyPEM)
	if err != nil {
		t.Fatal(err)
	}
	b := cs.browser(t, pair)
	b.get("/login")
	if st, loc, body := b.post("/login/cert", url.Values{"csrf": {b.csrf()}, "address": {l.Email}}); st != http.StatusSeeOther || loc != "/me" {
		t.Fatalf("certificate login of %s: %d %s\n%s", l.Email, st, loc, body)
	}
	b.get("/me")
	return b
}

// TestScenarioParityWebMail: for each owner and moderator operation the
// web allows exactly what the list's scenario allows a mail proven by the
// same method. With the default admin.signed and moderate.signed, the
// owner logged in by email token (md5, like a confirmed but unsigned mail)
// is refused, and logged in with the certificate bound to her (smime, like
// a mail she signed) is allowed.
func TestScenarioParityWebMail(t *testing.T) {
	cs := newCertSite(t)
	byMethod := map[string]*browser{}
	md5 := cs.browser(t)
	md5.loginIssued("ann@subs.test")
	md5.get("/me")
	byMethod[rules.MethodMD5] = md5
	byMethod[rules.MethodSMIME] = cs.certLogin(t, cs.ann)
	var l *lists.List
	cs.Lists.View(func(tx *lists.Tx) error { l, _ = tx.List("team@lists.test"); return nil })
	svc := cs.srv.svc
	for _, op := range []struct {
		name, scenario string
		do             func(b *browser) int
	}{
		{"settings page", service.OpAdmin, func(b *browser) int { st, _ := b.get("/lists/team@lists.test/admin"); return st }},
		{"members page", service.OpAdmin, func(b *browser) int { st, _ := b.get("/lists/team@lists.test/members"); return st }},
		{"set a setting", service.OpAdmin, func(b *browser) int {
			st, _, _ := b.post("/lists/team@lists.test/admin/settings", url.Values{"csrf": {b.csrfOf("/me")}, "set.subject_prefix": {"[t]"}})
			return st
		}},
		{"add a member", service.OpAdmin, func(b *browser) int {
			st, _, _ := b.post("/lists/team@lists.test/members/add", url.Values{"csrf": {b.csrfOf("/me")}, "address": {"dan@subs.test"}})
			return st
		}},
		{"held posts", service.OpModerate, func(b *browser) int { st, _ := b.get("/lists/team@lists.test/held"); return st }},
	} {
		for _, method := range []string{rules.MethodMD5, rules.MethodSMIME} {
			t.Run(op.name+"/"+method, func(t *testing.T) {
				d, err := svc.Decide(service.Actor{Address: "ann@subs.test", Method: method, Via: service.ViaMail}, l, op.scenario)
				if err != nil {
					t.Fatal(err)
				}
				mailAllows := d.Action == rules.ScenarioDoIt
				st := op.do(byMethod[method])
				webAllows := st == http.StatusOK || st == http.StatusSeeOther
				if webAllows != mailAllows {
					t.Fatalf("web %d (allowed %v), mail by %s: %s", st, webAllows, method, d.Action)
				}
				if method == rules.MethodMD5 && webAllows {
					t.Fatal("an owner operation was allowed on an email-token login under admin.signed")
				}
			})
		}
	}
	if m := cs.delivery(t, "team@lists.test", "dan@subs.test"); m == "" {
		t.Fatal("the smime owner's add did not add dan")
	}
}

// csrfOf loads path and returns its CSRF token.
func (b *browser) csrfOf(path string) string {
	b.t.Helper()
	b.get(path)
	return b.csrf()
}

// TestOwnerSettingsAndMembers: the owner (smime) changes a setting, imports
// members (a dry run first, with a bad line reported by number), searches
// and exports them.
func TestOwnerSettingsAndMembers(t *testing.T) {
	cs := newCertSite(t)
	b := cs.certLogin(t, cs.ann)
	_, page := b.get("/lists/team@lists.test/admin")
	for _, want := range []string{`name="set.subject_prefix"`, "Allowed:", "subscribe_policy"} {
		if !strings.Contains(page, want) {
			t.Fatalf("settings page lacks %q", want)
		}
	}
	st, loc, body := b.post("/lists/team@lists.test/admin/settings", url.Values{"csrf": {b.csrf()}, "set.subject_prefix": {"[team]"}, "set.subscribe_policy": {"approve"}, "was.subscribe_policy": {"confirm"}})
	if st != http.StatusSeeOther || loc != "/lists/team@lists.test/admin" {
		t.Fatalf("save settings: %d %s\n%s", st, loc, body)
	}
	var l *lists.List
	cs.Lists.View(func(tx *lists.Tx) error { l, _ = tx.List("team@lists.test"); return nil })
	if l.Settings.SubjectPrefix != "[team]" || l.Settings.SubscribePolicy != "approve" {
		t.Fatalf("settings not saved: %q %q", l.Settings.SubjectPrefix, l.Settings.SubscribePolicy)
	}
	csv := "address,name\ndan@subs.test,Dan\nnot an address,X\neve@subs.test,Eve\n"
	tok := b.csrfOf("/lists/team@lists.test/members")
	st, _, body = b.post("/lists/team@lists.test/members/import", url.Values{"csrf": {tok}, "format": {"csv"}, "data": {csv}, "dry_run": {"yes"}, "skip_bad": {"yes"}})
	if st != http.StatusOK || !strings.Contains(body, "Dry run") || !strings.Contains(body, "<td>3</td>") {
		t.Fatalf("dry run: %d\n%s", st, body)
	}
	if cs.isMember("team@lists.test", "dan@subs.test") {
		t.Fatal("the dry run imported")
	}
	st, _, body = b.post("/lists/team@lists.test/members/import", url.Values{"csrf": {tok}, "format": {"csv"}, "data": {csv}, "skip_bad": {"yes"}})
	if st != http.StatusOK || !cs.isMember("team@lists.test", "dan@subs.test") || !cs.isMember("team@lists.test", "eve@subs.test") {
		t.Fatalf("import: %d\n%s", st, body)
	}
	if _, page := b.get("/lists/team@lists.test/members?q=eve"); !strings.Contains(page, "eve@subs.test") || strings.Contains(page, "dan@subs.test") {
		t.Fatalf("search for eve:\n%s", page)
	}
	resp, err := b.c.Get(cs.ts.URL + "/lists/team@lists.test/members/export?format=csv")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out strings.Builder
	buf := make([]byte, 4096)
	for {
		n, err := resp.Body.Read(buf)
		out.Write(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") || !strings.Contains(out.String(), "eve@subs.test") {
		t.Fatalf("export: %v\n%s", resp.Header, out.String())
	}
}

func (ws *webSite) isMember(list, addr string) bool {
	ok := false
	ws.Lists.View(func(tx *lists.Tx) error { ok, _ = tx.IsSubscriber(list, addr); return nil })
	return ok
}

// TestOwnerMemberKeys: the owner (smime) adds a member's OpenPGP key on
// her own authority and revokes it; the keyring follows, and the audit
// log of the list records both, made on the web by smime.
func TestOwnerMemberKeys(t *testing.T) {
	testdirs.Slow(t, "runs gpg to make the member's key")
	cs := newCertSite(t)
	bob := gnupg.New(t)
	fpr := bob.GenKey("Bob <bob@subs.test>", "cv25519")
	b := cs.certLogin(t, cs.ann)
	st, loc, body := b.post("/lists/team@lists.test/keys/add", url.Values{"csrf": {b.csrfOf("/lists/team@lists.test/keys")}, "address": {"bob@subs.test"}, "key": {string(bob.ExportPublic(fpr))}})
	if st != http.StatusSeeOther || loc != "/lists/team@lists.test/keys" || cs.keyOf(t, "bob@subs.test") != fpr {
		t.Fatalf("add: %d %s (bound %q)\n%s", st, loc, cs.keyOf(t, "bob@subs.test"), body)
	}
	if _, page := b.get("/lists/team@lists.test/keys"); !strings.Contains(page, fpr) {
		t.Fatalf("keys page:\n%s", page)
	}
	st, _, body = b.post("/lists/team@lists.test/keys/revoke", url.Values{"csrf": {b.csrf()}, "address": {"bob@subs.test"}, "fingerprint": {fpr}})
	if st != http.StatusSeeOther || cs.keyOf(t, "bob@subs.test") != "" {
		t.Fatalf("revoke: %d (bound %q)\n%s", st, cs.keyOf(t, "bob@subs.test"), body)
	}
	_, audit := b.get("/lists/team@lists.test/audit")
	for _, want := range []string{"key.add", "key.revoke", "smime via web"} {
		if !strings.Contains(audit, want) {
			t.Fatalf("audit log lacks %q:\n%s", want, audit)
		}
	}
}
