package api_test

import (
	"encoding/json"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// auditEntry is what GET /v1/audit returns per entry.
type auditEntry struct {
	Method, Via, Token, Op, List, Target, Result string
	Scopes                                       []string
}

// TestAuditEveryChange makes each kind of change through the daemon (and
// one refused attempt) and finds one audit entry per change naming the
// token, its scopes, the way in and the result.
func TestAuditEveryChange(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	adminTok := s.token("site:admin")
	ownerTok := s.token("list:team@lists.test:owner")
	d := s.startDaemon("--socket", s.dir+"/api.sock")
	ids := map[string]string{}
	var toks []struct {
		ID     string
		Scopes []string
	}
	if err := json.Unmarshal([]byte(s.run("token", "list", "--json")), &toks); err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if tk.Scopes[0] == "site:admin" {
			ids["admin"] = tk.ID
		} else {
			ids["owner"] = tk.ID
		}
	}

	changes := []struct {
		tok, method, path, ct, body string
		wantStatus                  int
		op, list, target, result    string
		who                         string
	}{
		{adminTok, "POST", "/v1/lists", "application/json", `{"address":"new@lists.test"}`, 201, "list.create", "new@lists.test", "", "ok", "admin"},
		{ownerTok, "PATCH", "/v1/lists/team@lists.test/settings", "application/json", `{"settings":{"subject_prefix":"[t] "}}`, 200, "list.set", "team@lists.test", "subject_prefix", "ok", "owner"},
		{ownerTok, "POST", "/v1/lists/team@lists.test/members", "application/json", `{"address":"ann@subs.test"}`, 201, "member.add", "team@lists.test", "ann@subs.test", "ok", "owner"},
		{ownerTok, "PUT", "/v1/lists/team@lists.test/members/ann@subs.test/delivery", "application/json", `{"delivery":"digest"}`, 200, "member.delivery", "team@lists.test", "ann@subs.test", "ok", "owner"},
		{ownerTok, "POST", "/v1/lists/team@lists.test/members/import", "text/csv", "bob@subs.test\n", 200, "member.import", "team@lists.test", "", "ok", "owner"},
		{ownerTok, "DELETE", "/v1/lists/team@lists.test/members/ann@subs.test", "", "", 200, "member.remove", "team@lists.test", "ann@subs.test", "ok", "owner"},
		{ownerTok, "PATCH", "/v1/lists/other@lists.test/settings", "application/json", `{"settings":{"subject_prefix":"[o] "}}`, 403, "list.set", "other@lists.test", "", "forbidden", "owner"},
		{adminTok, "POST", "/v1/lists/team@lists.test/style", "application/json", `{"style":"discussion"}`, 200, "list.style", "team@lists.test", "discussion", "ok", "admin"},
		{adminTok, "DELETE", "/v1/lists/new@lists.test", "", "", 200, "list.delete", "new@lists.test", "", "ok", "admin"},
	}
	for _, c := range changes {
		if r := d.do(t, c.tok, c.method, c.path, c.ct, []byte(c.body)); r.status != c.wantStatus {
			t.Fatalf("%s %s = %d %s", c.method, c.path, r.status, r.body)
		}
	}
	// Reads are not recorded.
	d.do(t, ownerTok, "GET", "/v1/lists/team@lists.test/members", "", nil)

	r := d.do(t, adminTok, "GET", "/v1/audit", "", nil)
	if r.status != 200 {
		t.Fatalf("GET /v1/audit = %d %s", r.status, r.body)
	}
	var got []auditEntry
	if err := json.Unmarshal(r.body, &got); err != nil {
		t.Fatal(err)
	}
	var api []auditEntry
	for _, e := range got {
		if e.Via == "api" {
			api = append(api, e)
		}
	}
	if len(api) != len(changes) {
		t.Fatalf("%d api audit entries for %d changes:\n%s", len(api), len(changes), r.body)
	}
	for i, c := range changes {
		e := api[i]
		wantScope := map[string]string{"admin": "site:admin", "owner": "list:team@lists.test:owner"}[c.who]
		if e.Op != c.op || !strings.EqualFold(e.List, c.list) || e.Result != c.result || e.Method != "token" ||
			e.Token != ids[c.who] || len(e.Scopes) != 1 || e.Scopes[0] != wantScope ||
			(c.target != "" && !strings.Contains(e.Target, c.target)) {
			t.Errorf("entry %d = %+v, want %s on %s target %s result %s by %s", i, e, c.op, c.list, c.target, c.result, c.who)
		}
	}

	// An owner reads its list's log, not the site's nor another list's.
	if r := d.do(t, ownerTok, "GET", "/v1/audit?list=team@lists.test", "", nil); r.status != 200 {
		t.Fatalf("owner's audit = %d %s", r.status, r.body)
	}
	for _, path := range []string{"/v1/audit", "/v1/audit?list=other@lists.test"} {
		if r := d.do(t, ownerTok, "GET", path, "", nil); r.status != 403 {
			t.Fatalf("owner GET %s = %d %s", path, r.status, r.body)
		}
	}
}
