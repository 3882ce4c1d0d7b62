package api_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"cloister/internal/testdirs"
)

// The tokens of the matrix, by column.
const (
	admin = iota
	owner
	moderator
	reader
	otherOwner
	columns
)

var columnNames = [columns]string{"site:admin", "team owner", "team moderator", "team read", "other's owner"}

// endpoint is one row of the scope x endpoint matrix: a request (with a
// fresh number n for names that must not repeat) and the status each token
// gets.
type endpoint struct {
	name   string
	method string
	path   string
	ct     string
	body   string
	want   [columns]int
	// denyPath, when set, is the path for the forbidden columns: a real
	// held post ({held}), which must stay held.
	denyPath string
}

const (
	ok        = http.StatusOK
	created   = http.StatusCreated
	accepted  = http.StatusAccepted
	forbidden = http.StatusForbidden
	notFound  = http.StatusNotFound
	// badRequest: authorized, then refused for its content.
	badRequest = http.StatusBadRequest
)

// matrix holds every endpoint: what each token may do, on its list and on
// another (the other's owner column is the wrong-list case).
var matrix = []endpoint{
	{"list directory", "GET", "/v1/lists", "", "", [columns]int{ok, ok, ok, ok, ok}, ""},
	{"styles", "GET", "/v1/styles", "", "", [columns]int{ok, ok, ok, ok, ok}, ""},
	{"list show", "GET", "/v1/lists/team@lists.test", "", "", [columns]int{ok, ok, ok, ok, forbidden}, ""},
	{"list create", "POST", "/v1/lists", "application/json", `{"address":"new%d@lists.test"}`, [columns]int{created, forbidden, forbidden, forbidden, forbidden}, ""},
	{"list delete", "DELETE", "/v1/lists/gone%d@lists.test", "", "", [columns]int{notFound, forbidden, forbidden, forbidden, forbidden}, ""},
	{"apply style", "POST", "/v1/lists/team@lists.test/style", "application/json", `{"style":"discussion"}`, [columns]int{ok, forbidden, forbidden, forbidden, forbidden}, ""},
	{"settings get", "GET", "/v1/lists/team@lists.test/settings", "", "", [columns]int{ok, ok, ok, ok, forbidden}, ""},
	{"settings set", "PATCH", "/v1/lists/team@lists.test/settings", "application/json", `{"settings":{"subject_prefix":"[team %d]"}}`, [columns]int{ok, ok, forbidden, forbidden, forbidden}, ""},
	{"member list", "GET", "/v1/lists/team@lists.test/members", "", "", [columns]int{ok, ok, ok, ok, forbidden}, ""},
	{"member add", "POST", "/v1/lists/team@lists.test/members", "application/json", `{"address":"m%d@subs.test"}`, [columns]int{created, created, forbidden, forbidden, forbidden}, ""},
	{"member remove", "DELETE", "/v1/lists/team@lists.test/members/nobody%d@subs.test", "", "", [columns]int{notFound, notFound, forbidden, forbidden, forbidden}, ""},
	{"member set", "PATCH", "/v1/lists/team@lists.test/members/nobody%d@subs.test", "application/json", `{"delivery":"digest"}`, [columns]int{notFound, notFound, forbidden, forbidden, forbidden}, ""},
	{"member delivery", "PUT", "/v1/lists/team@lists.test/members/nobody%d@subs.test/delivery", "application/json", `{"delivery":"digest"}`, [columns]int{notFound, notFound, forbidden, forbidden, forbidden}, ""},
	{"member import", "POST", "/v1/lists/team@lists.test/members/import?dry_run=true", "text/csv", "i%d@subs.test\n", [columns]int{ok, ok, forbidden, forbidden, forbidden}, ""},
	{"member export", "GET", "/v1/lists/team@lists.test/members/export?format=json", "", "", [columns]int{ok, ok, ok, ok, forbidden}, ""},
	{"held list", "GET", "/v1/lists/team@lists.test/held", "", "", [columns]int{ok, ok, ok, forbidden, forbidden}, ""},
	{"held show", "GET", "/v1/lists/team@lists.test/held/{held}", "", "", [columns]int{ok, ok, ok, forbidden, forbidden}, ""},
	{"held approve", "POST", "/v1/lists/team@lists.test/held/nosuch%d/approve", "", "", [columns]int{notFound, notFound, notFound, forbidden, forbidden},
		"/v1/lists/team@lists.test/held/{held}/approve"},
	{"held reject", "POST", "/v1/lists/team@lists.test/held/nosuch%d/reject", "application/json", `{"reason":"off topic"}`, [columns]int{notFound, notFound, notFound, forbidden, forbidden},
		"/v1/lists/team@lists.test/held/{held}/reject"},
	{"held discard", "POST", "/v1/lists/team@lists.test/held/nosuch%d/discard", "", "", [columns]int{notFound, notFound, notFound, forbidden, forbidden},
		"/v1/lists/team@lists.test/held/{held}/discard"},
	{"key list", "GET", "/v1/lists/team@lists.test/keys", "", "", [columns]int{ok, ok, ok, ok, forbidden}, ""},
	{"key add", "POST", "/v1/lists/team@lists.test/keys", "application/json", `{"address":"ann@subs.test","key":"not a key"}`, [columns]int{badRequest, badRequest, forbidden, forbidden, forbidden}, ""},
	{"key revoke", "DELETE", "/v1/lists/team@lists.test/keys/nokey%d@subs.test", "", "", [columns]int{notFound, notFound, forbidden, forbidden, forbidden}, ""},
	{"list key export", "GET", "/v1/lists/team@lists.test/listkey/openpgp", "", "", [columns]int{notFound, notFound, notFound, notFound, notFound}, ""},
	{"bounces", "GET", "/v1/lists/team@lists.test/bounces", "", "", [columns]int{ok, ok, ok, ok, forbidden}, ""},
	{"queues", "GET", "/v1/queues", "", "", [columns]int{ok, forbidden, forbidden, forbidden, forbidden}, ""},
	{"queue entries", "GET", "/v1/queues/bad", "", "", [columns]int{ok, forbidden, forbidden, forbidden, forbidden}, ""},
	{"list import", "POST", "/v1/imports", "application/json", `{"plan":{"Address":"imp%d@lists.test","Style":"discussion"}}`, [columns]int{ok, forbidden, forbidden, forbidden, forbidden}, ""},
	{"list key generate", "POST", "/v1/lists/team@lists.test/listkeys", "application/json", `{"kind":"no-such-kind"}`, [columns]int{badRequest, forbidden, forbidden, forbidden, forbidden}, ""},
	{"list key import", "POST", "/v1/lists/team@lists.test/listkeys/import", "application/json", `{"kind":"openpgp","key":"bm90IGEga2V5"}`, [columns]int{badRequest, forbidden, forbidden, forbidden, forbidden}, ""},
	{"list key revoke", "DELETE", "/v1/lists/team@lists.test/listkeys/0123456789ABCDEF", "", "", [columns]int{notFound, forbidden, forbidden, forbidden, forbidden}, ""},
	{"keyring rekey", "POST", "/v1/keyring/rekey", "application/json", `{"passphrase":""}`, [columns]int{badRequest, forbidden, forbidden, forbidden, forbidden}, ""},
	{"key bulk import", "POST", "/v1/keys/import", "application/pgp-keys", "not keys", [columns]int{badRequest, forbidden, forbidden, forbidden, forbidden}, ""},
	{"key expiry notices", "POST", "/v1/keys/expiry-notices", "", "", [columns]int{ok, forbidden, forbidden, forbidden, forbidden}, ""},
	{"key request decide", "POST", "/v1/lists/team@lists.test/keyrequests/nosuch%d", "application/json", `{"approve":false}`, [columns]int{notFound, notFound, forbidden, forbidden, forbidden}, ""},
	{"queue requeue", "POST", "/v1/queues/bad/requeue", "application/json", `{"entries":["nosuch%d"]}`, [columns]int{notFound, forbidden, forbidden, forbidden, forbidden}, ""},
	{"held expire", "POST", "/v1/held/expire", "", "", [columns]int{ok, forbidden, forbidden, forbidden, forbidden}, ""},
	{"subscribe an address", "POST", "/v1/lists/team@lists.test/subscriptions", "application/json", `{"address":"s%d@subs.test"}`, [columns]int{accepted, accepted, forbidden, forbidden, forbidden}, ""},
	{"audit of the list", "GET", "/v1/audit?list=team@lists.test", "", "", [columns]int{ok, ok, ok, ok, forbidden}, ""},
	{"audit of the site", "GET", "/v1/audit", "", "", [columns]int{ok, forbidden, forbidden, forbidden, forbidden}, ""},
}

var serial atomic.Int64

// fill numbers a request's %d placeholders.
func fill(s string) string {
	if !strings.Contains(s, "%d") {
		return s
	}
	return strings.ReplaceAll(s, "%d", fmt.Sprint(serial.Add(1)))
}

// TestScopeMatrix runs every endpoint with every token through the real
// daemon, over the Unix socket and over TLS: allowed, forbidden, wrong list.
func TestScopeMatrix(t *testing.T) {
	testdirs.Slow(t, "drives the built cloister binary and api daemon, a process per command")
	s := newSite(t)
	tokens := [columns]string{
		s.token("site:admin"),
		s.token("list:team@lists.test:owner"),
		s.token("list:team@lists.test:moderator"),
		s.token("list:team@lists.test:read"),
		s.token("list:other@lists.test:owner"),
	}
	s.moderate("team@lists.test", "ann@subs.test")
	held := s.hold("team@lists.test", "ann@subs.test", "matrix post")
	daemons := map[string]*daemon{
		"unix": s.startDaemon("--socket", s.dir+"/api.sock"),
		"tls":  s.startDaemon("--listen", "127.0.0.1:0"),
	}
	for _, transport := range []string{"unix", "tls"} {
		d := daemons[transport]
		t.Run(transport, func(t *testing.T) {
			for _, e := range matrix {
				for col := range columns {
					t.Run(e.name+"/"+columnNames[col], func(t *testing.T) {
						path := e.path
						if e.denyPath != "" && e.want[col] == forbidden {
							path = e.denyPath
						}
						path = strings.ReplaceAll(path, "{held}", held)
						r := d.do(t, tokens[col], e.method, fill(path), e.ct, []byte(fill(e.body)))
						if r.status != e.want[col] {
							t.Fatalf("%s %s = %d %s, want %d", e.method, e.path, r.status, r.body, e.want[col])
						}
						if r.status >= 400 && r.errorCode() == "" {
							t.Fatalf("error answer is not a JSON error: %s", r.body)
						}
						if r.status == forbidden && r.errorCode() != "forbidden" {
							t.Fatalf("code %q, want forbidden", r.errorCode())
						}
					})
				}
			}
		})
	}
	// The forbidden attempts left the held post alone.
	if out := s.run("held", "ls", "team@lists.test"); !strings.Contains(out, held) {
		t.Fatalf("the held post is gone after forbidden attempts:\n%s", out)
	}
}
