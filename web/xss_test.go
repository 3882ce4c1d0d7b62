package web

import (
	"strings"
	"testing"

	"cloister/lists"
)

// TestStoredXSSInNames: script payloads stored in a member's name and in a
// list's description are shown as inert text on the directory, the list's
// page, my subscriptions and the members page.
func TestStoredXSSInNames(t *testing.T) {
	cs := newCertSite(t)
	err := cs.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		l.Description = `<img src=x onerror=alert(1)>`
		if err := tx.PutList(l); err != nil {
			return err
		}
		m, err := tx.Member("team@lists.test", "cat@subs.test")
		if err != nil {
			return err
		}
		m.Name = `<script>alert(2)</script>`
		return tx.PutMember("team@lists.test", m)
	})
	if err != nil {
		t.Fatal(err)
	}
	owner := cs.certLogin(t, cs.ann)
	cat := cs.browser(t)
	cat.login("cat@subs.test")
	for _, tc := range []struct {
		b    *browser
		path string
		want string
	}{
		{owner, "/", "&lt;img src=x onerror=alert(1)&gt;"},
		{owner, "/lists/team@lists.test", "&lt;img src=x onerror=alert(1)&gt;"},
		{cat, "/me", "&lt;img src=x onerror=alert(1)&gt;"},
		{owner, "/lists/team@lists.test/members", "&lt;script&gt;alert(2)&lt;/script&gt;"},
	} {
		st, page := tc.b.get(tc.path)
		if st != 200 || !strings.Contains(page, tc.want) {
			t.Errorf("%s: %d, the payload is not shown as text:\n%s", tc.path, st, page)
		}
		for _, live := range []string{"<img src=x", "<script>alert"} {
			if strings.Contains(page, live) {
				t.Errorf("%s: live payload %q", tc.path, live)
			}
		}
	}
}
