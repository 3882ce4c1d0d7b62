package service

import (
	"context"
	"testing"

	"cloister/lists"
	"cloister/migrate"
	"cloister/rules"
)

// TestApplyImport: an import plan is made by the site's admins only; a dry
// run and a refused plan make nothing; a plan makes the list with its
// settings and members in one audited change, once.
func TestApplyImport(t *testing.T) {
	s := newTestService(t)
	ctx := context.Background()
	plan := migrate.Plan{Address: "moved@lists.test", Description: "Moved here", Style: "discussion",
		Settings: [][2]string{{"subscribe_policy", "confirm"}},
		Members: []migrate.Member{
			{Address: "ann@subs.test", Owner: true, Member: true, Delivery: "enabled"},
			{Address: "bob@subs.test", Member: true, Delivery: "digest"},
		}}
	bad := plan
	bad.Settings = [][2]string{{"no_such_setting", "1"}}
	badStyle := plan
	badStyle.Style = "no-such-style"
	for _, tc := range []struct {
		name string
		a    Actor
		req  ImportPlanRequest
		want string
	}{
		{"a list owner's token", token(t, "list:moved@lists.test:owner"), ImportPlanRequest{Plan: plan}, CodeForbidden},
		{"a person", person("ann@subs.test", rules.MethodPGP), ImportPlanRequest{Plan: plan}, CodeForbidden},
		{"an unknown setting", Console(), ImportPlanRequest{Plan: bad}, CodeInvalid},
		{"an unknown style", Console(), ImportPlanRequest{Plan: badStyle}, CodeInvalid},
		{"a dry run", Console(), ImportPlanRequest{Plan: plan, DryRun: true}, ""},
	} {
		res, err := s.ApplyImport(ctx, tc.a, tc.req)
		if Code(err) != tc.want {
			t.Errorf("%s: %v, want code %q", tc.name, err, tc.want)
		}
		if _, err := s.loadList("moved"); Code(err) != CodeNotFound {
			t.Fatalf("%s: the list was made (%v), result %+v", tc.name, err, res)
		}
	}
	res, err := s.ApplyImport(ctx, token(t, "site:admin"), ImportPlanRequest{Plan: plan})
	if err != nil || res.List != "moved@lists.test" {
		t.Fatalf("import: %+v, %v", res, err)
	}
	l, err := s.loadList("moved")
	if err != nil || l.Description != "Moved here" || l.Settings.SubscribePolicy != "confirm" {
		t.Fatalf("list %+v, %v", l, err)
	}
	var bob *lists.Member
	if err := s.site.Lists.View(func(tx *lists.Tx) error { bob, err = tx.Member(l.Address, "bob@subs.test"); return err }); err != nil || bob.Delivery != "digest" {
		t.Fatalf("bob %+v, %v", bob, err)
	}
	if last := lastAudit(t, s); last.Op != "list.import" || last.List != l.Address || last.Target != "2 members" || last.Method != MethodToken {
		t.Errorf("audit entry %+v", last)
	}
	if _, err := s.ApplyImport(ctx, Console(), ImportPlanRequest{Plan: plan}); Code(err) != CodeConflict {
		t.Errorf("imported twice: %v, want conflict", err)
	}
}
