package service

import (
	"context"
	"strings"
	"testing"

	"cloister/rules"
)

// TestMemberExportImportRoundTrip: a roster exported as CSV or JSON is
// read back by the import into another list, dry run first.
func TestMemberExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	for _, format := range []string{FormatCSV, FormatJSON} {
		t.Run(format, func(t *testing.T) {
			s := newTestService(t)
			console := Console()
			ex, err := s.MemberExport(ctx, console, MemberExportRequest{List: "team", Format: format})
			if err != nil {
				t.Fatal(err)
			}
			if err := s.MemberRemove(ctx, console, MemberRemoveRequest{List: "other", Address: "olga@subs.test", AllRoles: true}); err != nil {
				t.Fatal(err)
			}
			res, err := s.MemberImport(ctx, console, MemberImportRequest{List: "other", Format: format, Data: ex.Data, DryRun: true})
			if err != nil || res.Added != 4 || !res.DryRun {
				t.Fatalf("dry run: %+v, %v", res, err)
			}
			if got, _ := s.MemberList(ctx, console, MemberListRequest{List: "other"}); len(got) != 0 {
				t.Fatalf("the dry run imported %d members", len(got))
			}
			res, err = s.MemberImport(ctx, console, MemberImportRequest{List: "other", Format: format, Data: ex.Data})
			if err != nil || res.Added != 4 || res.BadCount != 0 {
				t.Fatalf("import: %+v, %v", res, err)
			}
			a, _ := s.MemberList(ctx, console, MemberListRequest{List: "team"})
			b, _ := s.MemberList(ctx, console, MemberListRequest{List: "other"})
			for i := range a {
				if a[i].Address != b[i].Address || strings.Join(a[i].Roles, ",") != strings.Join(b[i].Roles, ",") || a[i].Name != b[i].Name {
					t.Errorf("member %d: %+v, exported %+v", i, b[i], a[i])
				}
			}
		})
	}
}

// TestMemberImportOwnerRoles: an owner's import may add members only; a
// line giving another role is a bad line.
func TestMemberImportOwnerRoles(t *testing.T) {
	s := newTestService(t)
	ann := Actor{Address: "ann@subs.test", Method: rules.MethodPGP, Via: ViaWeb}
	res, err := s.MemberImport(context.Background(), ann, MemberImportRequest{List: "team",
		Data: []byte("dan@subs.test,Dan\neve@subs.test,Eve,owner\n"), SkipBad: true})
	if err != nil || res.Added != 1 || res.BadCount != 1 || res.Bad[0].Line != 2 || !strings.Contains(res.Bad[0].Message, "only the site's admins") {
		t.Fatalf("owner import: %+v, %v", res, err)
	}
}

// TestMySubscriptionsAndSearch: a person sees their own subscriptions and
// nobody else's; the roster can be searched.
func TestMySubscriptionsAndSearch(t *testing.T) {
	ctx := context.Background()
	s := newTestService(t)
	ann := Actor{Address: "ann@subs.test", Method: rules.MethodMD5, Via: ViaWeb}
	subs, err := s.MySubscriptions(ctx, ann, MySubscriptionsRequest{})
	if err != nil || len(subs) != 1 || subs[0].List != "team@lists.test" || strings.Join(subs[0].Roles, ",") != "member,owner" {
		t.Fatalf("ann's subscriptions: %+v, %v", subs, err)
	}
	if _, err := s.MySubscriptions(ctx, ann, MySubscriptionsRequest{Address: "bob@subs.test"}); Code(err) != CodeForbidden {
		t.Errorf("ann asks for bob's: %v, want forbidden", err)
	}
	if _, err := s.MySubscriptions(ctx, Actor{Address: "ann@subs.test", Method: rules.MethodSMTP, Via: ViaWeb}, MySubscriptionsRequest{}); Code(err) != CodeUnauthenticated {
		t.Errorf("unproven web actor: %v, want unauthenticated", err)
	}
	got, err := s.MemberList(ctx, Console(), MemberListRequest{List: "team", Query: "CAT"})
	if err != nil || len(got) != 1 || got[0].Address != "cat@subs.test" {
		t.Errorf("search: %+v, %v", got, err)
	}
	got, err = s.MemberList(ctx, Console(), MemberListRequest{List: "team", Role: "moderator"})
	if err != nil || len(got) != 1 || got[0].Address != "mod@subs.test" {
		t.Errorf("by role: %+v, %v", got, err)
	}
}
