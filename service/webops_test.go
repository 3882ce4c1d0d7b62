package service

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"cloister/lists"
)

// TestDirectory reads the list directory as each kind of actor, with
// other@lists.test confidential (advertised = false): the anonymous web
// visitor, a person with or without a role on the confidential list, a
// site admin and a token that reads one list each see what ListList would
// show them, member counts only where they may read the list.
func TestDirectory(t *testing.T) {
	svc := newTestService(t)
	err := svc.site.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("other@lists.test")
		if err != nil {
			return err
		}
		l.Settings.Advertised = false
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		actor Actor
		want  string
	}{
		{"anonymous visitor", Actor{Method: "smtp", Via: ViaWeb}, "team@lists.test(-1)"},
		{"member of the advertised list", person("bob@subs.test", "md5"), "team@lists.test(-1)"},
		{"owner of the confidential list", person("olga@subs.test", "md5"), "other@lists.test(-1) team@lists.test(-1)"},
		{"site admin", token(t, "site:admin"), "other@lists.test(1) team@lists.test(4)"},
		{"token reading the confidential list", token(t, "list:other@lists.test:read"), "other@lists.test(1) team@lists.test(-1)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sums, err := svc.Directory(context.Background(), tc.actor)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range sums {
				got = append(got, fmt.Sprintf("%s(%d)", s.Address, s.Members))
			}
			if g := strings.Join(got, " "); g != tc.want {
				t.Errorf("directory %q, want %q", g, tc.want)
			}
		})
	}
}
