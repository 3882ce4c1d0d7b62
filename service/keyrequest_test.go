package service

import (
	"context"
	"errors"
	"testing"

	"cloister/lists"
	"cloister/rules"
)

// fakeDecider is key workflows that record the key requests decided.
type fakeDecider struct {
	KeyWorkflows
	decided []string
}

func (f *fakeDecider) DecideKeyRequest(l *lists.List, a Actor, id string, approve bool) (string, error) {
	if id == "gone" {
		return "", errors.New("no key request gone")
	}
	f.decided = append(f.decided, l.Address+" "+id+" by "+a.who())
	return "decided " + id, nil
}

// TestKeyRequestDecide: key requests are decided by the list's owners and
// the site's admins, never by a member or another list's owner, and each
// decision is audited.
func TestKeyRequestDecide(t *testing.T) {
	f := &fakeDecider{}
	s := newTestService(t, WithKeyWorkflows(f))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		a    Actor
		id   string
		want string
	}{
		{"a member", person("bob@subs.test", rules.MethodPGP), "r1", CodeForbidden},
		{"another list's owner", person("olga@subs.test", rules.MethodPGP), "r1", CodeForbidden},
		{"another list's token", token(t, "list:other@lists.test:owner"), "r1", CodeForbidden},
		{"the owner", person("ann@subs.test", rules.MethodPGP), "r1", ""},
		{"the console", Console(), "r2", ""},
		{"a request that is not there", Console(), "gone", CodeInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := len(f.decided)
			text, err := s.KeyRequestDecide(ctx, tc.a, KeyRequestDecideRequest{List: "team", ID: tc.id, Approve: true})
			if Code(err) != tc.want {
				t.Fatalf("KeyRequestDecide: %v, want code %q", err, tc.want)
			}
			if tc.want != "" {
				if len(f.decided) != n {
					t.Fatal("a refused request was decided")
				}
				return
			}
			if text != "decided "+tc.id || len(f.decided) != n+1 {
				t.Fatalf("text %q, decided %v", text, f.decided)
			}
			log := auditLog(t, s)
			if last := log[len(log)-1]; last.Op != "key.request" || last.Target != tc.id+" approved" {
				t.Errorf("audit entry %+v", last)
			}
		})
	}
	if _, err := New(s.Site()).KeyRequestDecide(ctx, Console(), KeyRequestDecideRequest{List: "team", ID: "r3"}); Code(err) != CodeUnavailable {
		t.Errorf("without key workflows: %v, want unavailable", err)
	}
}
