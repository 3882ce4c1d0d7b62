package api_test

import (
	"strings"
	"testing"
	"time"

	"cloister/internal/testdirs"
)

// TestTokenOfDeletedList: a list scope names the list that existed when the
// token was made. The owner token of a list that is deleted does not run
// the new list a site admin later makes with the same name (nor can a
// token be made for a list that does not exist yet); a token made after
// the list does, and so does a site admin's token made before it.
func TestTokenOfDeletedList(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	oldOwner := s.token("list:team@lists.test:owner")
	// A token cannot be made for a list that does not exist: it could
	// never act on the list once made.
	if out, errOut, err := s.runErr(nil, "token", "create", "--scope", "list:later@lists.test:owner"); err == nil || !strings.Contains(errOut, "no list later@lists.test") {
		t.Fatalf("token create for a list that does not exist: %v\n%s%s", err, out, errOut)
	}
	admin := s.token("site:admin")
	made := time.Now()
	d := s.startDaemon()

	check := func(name, token, method, path, body string, status int, want string) {
		t.Helper()
		ct := ""
		if body != "" {
			ct = "application/json"
		}
		r := d.do(t, token, method, path, ct, []byte(body))
		if r.status != status || !strings.Contains(string(r.body), want) {
			t.Fatalf("%s: %s %s = %d %s", name, method, path, r.status, r.body)
		}
	}
	check("the owner token runs its list", oldOwner, "POST", "/v1/lists/team@lists.test/members", `{"address":"ann@subs.test"}`, 201, "ann@subs.test")
	// Tokens record their making to the second: the lists below are made
	// in a later second than the tokens above.
	for time.Now().Unix() <= made.Unix() {
		time.Sleep(50 * time.Millisecond)
	}
	check("the list is deleted", admin, "DELETE", "/v1/lists/team@lists.test", "", 200, "ok")
	check("a list of the same name is made", admin, "POST", "/v1/lists", `{"address":"team@lists.test"}`, 201, "team@lists.test")
	check("the old owner token reads the new list", oldOwner, "GET", "/v1/lists/team@lists.test/members", "", 403, "forbidden")
	check("the old owner token adds to the new list", oldOwner, "POST", "/v1/lists/team@lists.test/members", `{"address":"eve@subs.test"}`, 403, "forbidden")
	check("the old owner token changes the new list's settings", oldOwner, "PATCH", "/v1/lists/team@lists.test/settings", `{"settings":{"footer":"x"}}`, 403, "forbidden")

	newOwner := s.token("list:team@lists.test:owner")
	check("a token made after the new list runs it", newOwner, "POST", "/v1/lists/team@lists.test/members", `{"address":"bob@subs.test"}`, 201, "bob@subs.test")
	check("the site admin's older token runs it", admin, "GET", "/v1/lists/team@lists.test/members", "", 200, "bob@subs.test")
	if out := s.run("member", "ls", "team@lists.test"); strings.Contains(out, "eve@subs.test") {
		t.Fatalf("a refused token added a member:\n%s", out)
	}
}
