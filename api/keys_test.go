package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestSubscriberKeys adds keys made by the real gpg through the daemon: a
// member's own key is added with its state listed; a key whose user IDs do
// not carry the address is refused, and binding it anyway is for a site
// admin, not an owner; a revoke removes the binding; members' keys as JSON
// move from one list to another by export and import.
func TestSubscriberKeys(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	s.run("member", "add", "team@lists.test", "bob@subs.test")
	s.run("member", "add", "team@lists.test", "carol@subs.test")
	owner := s.token("list:team@lists.test:owner")
	admin := s.token("site:admin")
	d := s.startDaemon("--listen", "127.0.0.1:0")

	home := gnupg.New(t)
	keys := map[string]string{}
	fprs := map[string]string{}
	for _, who := range []string{"bob", "mallory"} {
		fprs[who] = home.GenKey(who+" <"+who+"@subs.test>", "cv25519")
		keys[who] = string(home.ExportPublic(who + "@subs.test"))
	}
	body := func(addr, key string, bind bool) []byte {
		b, _ := json.Marshal(map[string]any{"address": addr, "key": key, "bind": bind})
		return b
	}
	steps := []struct {
		name   string
		token  string
		method string
		path   string
		body   []byte
		status int
		want   string
	}{
		{"own key", owner, "POST", "/v1/lists/team@lists.test/keys", body("bob@subs.test", keys["bob"], false), 201, fprs["bob"]},
		{"listed with its state", owner, "GET", "/v1/lists/team@lists.test/keys", nil, 200, `"state": "ok"`},
		{"another's key refused", owner, "POST", "/v1/lists/team@lists.test/keys", body("carol@subs.test", keys["mallory"], false), 400, "invalid"},
		{"owner may not bind it", owner, "POST", "/v1/lists/team@lists.test/keys", body("carol@subs.test", keys["mallory"], true), 403, "forbidden"},
		{"site admin binds it", admin, "POST", "/v1/lists/team@lists.test/keys", body("carol@subs.test", keys["mallory"], true), 201, fprs["mallory"]},
		{"garbage", owner, "POST", "/v1/lists/team@lists.test/keys", body("bob@subs.test", "-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n", false), 400, "invalid"},
		{"revoke", owner, "DELETE", "/v1/lists/team@lists.test/keys/bob@subs.test", nil, 200, "ok"},
	}
	for _, st := range steps {
		ct := ""
		if st.body != nil {
			ct = "application/json"
		}
		r := d.do(t, st.token, st.method, st.path, ct, st.body)
		if r.status != st.status || !strings.Contains(string(r.body), st.want) {
			t.Fatalf("%s: %s %s = %d %s", st.name, st.method, st.path, r.status, r.body)
		}
	}
	r := d.do(t, owner, "GET", "/v1/lists/team@lists.test/keys", "", nil)
	var listed []struct{ Address, Fingerprint, State string }
	if err := json.Unmarshal(r.body, &listed); err != nil {
		t.Fatal(err)
	}
	for _, k := range listed {
		if strings.EqualFold(k.Address, "bob@subs.test") && k.State == "ok" {
			t.Fatalf("bob's key is still bound after the revoke: %s", r.body)
		}
	}

	// JSON export of one list imported into another.
	exp := d.do(t, owner, "GET", "/v1/lists/team@lists.test/members/export?format=json", "", nil)
	if exp.status != 200 || exp.header.Get("Content-Type") != "application/json" {
		t.Fatalf("export = %d %s", exp.status, exp.body)
	}
	imp := d.do(t, admin, "POST", "/v1/lists/other@lists.test/members/import", "application/json", exp.body)
	if imp.status != 200 || !strings.Contains(string(imp.body), `"added": 2`) {
		t.Fatalf("import = %d %s", imp.status, imp.body)
	}
	if out := s.run("member", "ls", "other@lists.test"); !strings.Contains(out, "carol@subs.test") || !strings.Contains(out, "bob@subs.test") {
		t.Fatalf("other's members:\n%s", out)
	}
}
