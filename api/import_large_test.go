package api_test

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// TestLargeImport imports a CSV as large as the daemon's default body
// limit (about 4 MB, over 200,000 members in no particular order) through
// the daemon, and then a JSON import of the same size in reverse order. The
// store inserted members one key at a time into an in-memory page, which is
// quadratic in the members of one import: such an import took minutes,
// outlived the daemon's write time-out and left the client with no answer.
// Each import is answered, with every member added.
func TestLargeImport(t *testing.T) {
	testdirs.Slow(t, "imports a large member list")
	s := newSite(t)
	admin := s.token("site:admin")
	d := s.startDaemon()

	// A fixed permutation of 0..n-1, so that the keys arrive in no order.
	const n = 200000
	var csv strings.Builder
	for i := 0; i < n; i++ {
		fmt.Fprintf(&csv, "m%d@subs.test\n", (i*7919)%n)
	}
	if csv.Len() >= 4096<<10 {
		t.Fatalf("the import is %d bytes, over the daemon's body limit", csv.Len())
	}
	r := d.do(t, admin, "POST", "/v1/lists/team@lists.test/members/import", "text/csv", []byte(csv.String()))
	if r.status != 200 || !strings.Contains(string(r.body), fmt.Sprintf(`"added": %d`, n)) {
		t.Fatalf("CSV import = %d %.500s", r.status, r.body)
	}

	type member struct {
		Address string `json:"address"`
	}
	ms := make([]member, n/2)
	for i := range ms {
		ms[i] = member{fmt.Sprintf("j%d@subs.test", len(ms)-i)}
	}
	body, _ := json.Marshal(ms)
	r = d.do(t, admin, "POST", "/v1/lists/other@lists.test/members/import", "application/json", body)
	if r.status != 200 || !strings.Contains(string(r.body), fmt.Sprintf(`"added": %d`, len(ms))) {
		t.Fatalf("JSON import = %d %.500s", r.status, r.body)
	}

	for list, want := range map[string]int{"team@lists.test": n, "other@lists.test": len(ms)} {
		r = d.do(t, admin, "GET", "/v1/lists/"+list, "", nil)
		var info struct{ Members int }
		if err := json.Unmarshal(r.body, &info); err != nil || info.Members != want {
			t.Fatalf("%s has %d members (%v), want %d", list, info.Members, err, want)
		}
	}
}
