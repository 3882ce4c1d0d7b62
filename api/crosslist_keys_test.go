package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestKeyOfAnotherListsMember attacks the site-wide key binding through
// the daemon: the owner of team adds bob, who is on other, to team and
// then binds a key of their own making that carries bob's address, or
// revokes bob's key. A key is bound for the whole site, so either would
// change whom other encrypts to and whose signatures it trusts as bob's:
// both are refused unless the token may also run other (a token scoped to
// both lists, or a site admin), and bob's key on other is left as it was.
func TestKeyOfAnotherListsMember(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	s.run("member", "add", "other@lists.test", "bob@subs.test")
	s.run("member", "add", "team@lists.test", "ann@subs.test")
	teamOwner := s.token("list:team@lists.test:owner")
	bothOwner := s.token("list:team@lists.test:owner", "list:other@lists.test:owner")
	admin := s.token("site:admin")
	d := s.startDaemon()

	home := gnupg.New(t)
	bobFpr := home.GenKey("bob <bob@subs.test>", "cv25519")
	bobKey := string(home.ExportPublic("bob@subs.test"))
	forged := gnupg.New(t)
	forgedFpr := forged.GenKey("not bob <bob@subs.test>", "cv25519")
	forgedKey := string(forged.ExportPublic("bob@subs.test"))
	forged.GenKey("ann <ann@subs.test>", "cv25519")
	annKey := string(forged.ExportPublic("ann@subs.test"))

	body := func(addr, key string) []byte {
		b, _ := json.Marshal(map[string]any{"address": addr, "key": key})
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
		{"other's owner binds bob's key", admin, "POST", "/v1/lists/other@lists.test/keys", body("bob@subs.test", bobKey), 201, bobFpr},
		{"team's owner adds bob to team", teamOwner, "POST", "/v1/lists/team@lists.test/members", []byte(`{"address":"bob@subs.test"}`), 201, "bob@subs.test"},
		{"team's owner binds a forged key for bob", teamOwner, "POST", "/v1/lists/team@lists.test/keys", body("bob@subs.test", forgedKey), 403, "forbidden"},
		{"team's owner revokes bob's key", teamOwner, "DELETE", "/v1/lists/team@lists.test/keys/bob@subs.test", nil, 403, "forbidden"},
		{"team's owner revokes bob's key by fingerprint", teamOwner, "DELETE", "/v1/lists/team@lists.test/keys/bob@subs.test?fingerprint=" + bobFpr, nil, 403, "forbidden"},
		{"team's owner binds the key of team's own member", teamOwner, "POST", "/v1/lists/team@lists.test/keys", body("ann@subs.test", annKey), 201, "ann@subs.test"},
	}
	check := func(name, token, method, path string, b []byte, status int, want string) {
		t.Helper()
		ct := ""
		if b != nil {
			ct = "application/json"
		}
		r := d.do(t, token, method, path, ct, b)
		if r.status != status || !strings.Contains(string(r.body), want) {
			t.Fatalf("%s: %s %s = %d %s", name, method, path, r.status, r.body)
		}
	}
	for _, st := range steps {
		check(st.name, st.token, st.method, st.path, st.body, st.status, st.want)
	}
	bound := func() map[string]bool {
		t.Helper()
		r := d.do(t, admin, "GET", "/v1/lists/other@lists.test/keys", "", nil)
		var listed []struct{ Address, Fingerprint string }
		if err := json.Unmarshal(r.body, &listed); err != nil {
			t.Fatalf("keys of other: %v\n%s", err, r.body)
		}
		out := map[string]bool{}
		for _, k := range listed {
			if strings.EqualFold(k.Address, "bob@subs.test") {
				out[strings.ToUpper(k.Fingerprint)] = true
			}
		}
		return out
	}
	if got := bound(); !got[strings.ToUpper(bobFpr)] || got[strings.ToUpper(forgedFpr)] {
		t.Fatalf("bob's keys on other after the attack: %v (want only %s)", got, bobFpr)
	}
	// A token that may run both lists speaks for both.
	check("an owner of both lists binds bob's new key", bothOwner, "POST", "/v1/lists/team@lists.test/keys", body("bob@subs.test", forgedKey), 201, "bob@subs.test")
	if got := bound(); !got[strings.ToUpper(forgedFpr)] {
		t.Fatalf("bob's keys on other after the bind by an owner of both lists: %v", got)
	}
}
