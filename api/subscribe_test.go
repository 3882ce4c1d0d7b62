package api_test

import (
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestOwnerTokenStartsSubscription: a list owner's token starts the
// subscription of an address through the daemon; the address is mailed a
// confirmation (queued for the outgoing runner) and is not a member until
// it answers; the request is audited as pending. Bad requests and other
// tokens are refused with nothing mailed.
func TestOwnerTokenStartsSubscription(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	owner := s.token("list:team@lists.test:owner")
	d := s.startDaemon("--socket", s.dir+"/api.sock")
	const path = "/v1/lists/team@lists.test/subscriptions"
	for _, tc := range []struct {
		name, token, body string
		status            int
		code              string
	}{
		{"no address", owner, `{}`, 400, "invalid"},
		{"not an address", owner, `{"address":"not an address"}`, 400, "invalid"},
		{"a moderator's token", s.token("list:team@lists.test:moderator"), `{"address":"dan@subs.test"}`, 403, "forbidden"},
		{"another list's owner", s.token("list:other@lists.test:owner"), `{"address":"dan@subs.test"}`, 403, "forbidden"},
	} {
		if r := d.do(t, tc.token, "POST", path, "application/json", []byte(tc.body)); r.status != tc.status || r.errorCode() != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, r.status, r.body, tc.status, tc.code)
		}
	}
	if n := queueFiles(t, s, "out"); n != 0 {
		t.Fatalf("refused requests mailed %d messages", n)
	}
	r := d.do(t, owner, "POST", path, "application/json", []byte(`{"address":"dan@subs.test","name":"Dan"}`))
	if r.status != 202 || r.errorCode() != "pending" || !strings.Contains(string(r.body), "dan@subs.test") {
		t.Fatalf("subscription: %d %s, want 202 pending", r.status, r.body)
	}
	if n := queueFiles(t, s, "out"); n != 1 {
		t.Fatalf("%d messages queued, want the confirmation request", n)
	}
	if out := s.run("member", "ls", "team@lists.test"); strings.Contains(out, "dan@subs.test") {
		t.Fatalf("dan is a member before confirming:\n%s", out)
	}
	audit := s.run("audit", "--list", "team@lists.test", "--json")
	if !strings.Contains(audit, `"op": "member.subscribe"`) || !strings.Contains(audit, `"result": "pending"`) {
		t.Fatalf("the pending subscription is not audited:\n%s", audit)
	}
}
