package service

import (
	"context"
	"testing"
)

func TestParseScope(t *testing.T) {
	for _, tc := range []struct {
		in, want string
		bad      bool
	}{
		{in: "site:admin", want: "site:admin"},
		{in: "list:team@lists.test:owner", want: "list:team@lists.test:owner"},
		{in: "list:Team@Lists.Test:moderator", want: "list:team@lists.test:moderator"},
		{in: "list:team@lists.test:read", want: "list:team@lists.test:read"},
		{in: "list:team@lists.test:admin", bad: true},
		{in: "list:team@lists.test", bad: true},
		{in: "list::owner", bad: true},
		{in: "site:owner", bad: true},
		{in: "", bad: true},
	} {
		sc, err := ParseScope(tc.in)
		if tc.bad {
			if err == nil {
				t.Errorf("ParseScope(%q) = %v, want an error", tc.in, sc)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseScope(%q): %v", tc.in, err)
			continue
		}
		if sc.String() != tc.want {
			t.Errorf("ParseScope(%q).String() = %q, want %q", tc.in, sc.String(), tc.want)
		}
	}
}

// TestTokenScopeMatrix: each scope kind against each class of operation,
// on its own list and on another.
func TestTokenScopeMatrix(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	// ops run one operation of each class on list.
	ops := map[Class]func(a Actor, list string) error{
		ClassRead: func(a Actor, list string) error {
			_, err := s.MemberList(ctx, a, MemberListRequest{List: list})
			return err
		},
		ClassAdmin: func(a Actor, list string) error {
			_, err := s.ListSet(ctx, a, ListSetRequest{List: list, Settings: map[string]string{"footer": "hi"}})
			return err
		},
		ClassSite: func(a Actor, list string) error {
			_, err := s.ListApplyStyle(ctx, a, ListStyleRequest{List: list, Style: "announce"})
			return err
		},
	}
	for _, tc := range []struct {
		scope string
		allow map[Class]bool
	}{
		{"site:admin", map[Class]bool{ClassRead: true, ClassAdmin: true, ClassSite: true}},
		{"list:team@lists.test:owner", map[Class]bool{ClassRead: true, ClassAdmin: true}},
		{"list:team@lists.test:moderator", map[Class]bool{ClassRead: true}},
		{"list:team@lists.test:read", map[Class]bool{ClassRead: true}},
	} {
		a := token(t, tc.scope)
		for class, op := range ops {
			for _, list := range []string{"team@lists.test", "other@lists.test"} {
				err := op(a, list)
				want := tc.allow[class] && (list == "team@lists.test" || tc.scope == "site:admin")
				got := Code(err)
				if want && got != "" {
					t.Errorf("%s: %s on %s: %v, want allowed", tc.scope, class, list, err)
				}
				if !want && got != CodeForbidden {
					t.Errorf("%s: %s on %s: %q (%v), want forbidden", tc.scope, class, list, got, err)
				}
			}
		}
	}
}
