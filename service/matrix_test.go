package service

import (
	"context"
	"testing"

	"cloister/rules"
)

// matrixOp is one operation on a list, with the class that decides who may
// run it.
type matrixOp struct {
	name  string
	class Class
	run   func(s *Service, a Actor, list string) error
}

// matrixOps lists the operations on one list. Each is run with arguments
// that make it fail after authorization (a post or an address that is not
// there) or change little, so that only a refusal is "forbidden".
func matrixOps() []matrixOp {
	ctx := context.Background()
	return []matrixOp{
		{"list.show", ClassRead, func(s *Service, a Actor, l string) error { _, err := s.ListShow(ctx, a, ListRef{List: l}); return err }},
		{"list.set", ClassAdmin, func(s *Service, a Actor, l string) error {
			_, err := s.ListSet(ctx, a, ListSetRequest{List: l, Settings: map[string]string{"footer": "x"}})
			return err
		}},
		// discussion sets scenario settings, which only the site's admins
		// may change (TestOwnerApplyStyle covers the styles owners may apply).
		{"list.style", ClassSite, func(s *Service, a Actor, l string) error {
			_, err := s.ListApplyStyle(ctx, a, ListStyleRequest{List: l, Style: "discussion"})
			return err
		}},
		{"list.delete", ClassSite, func(s *Service, a Actor, l string) error {
			return s.ListDelete(ctx, a, ListRef{List: "no-such-" + l})
		}},
		{"member.list", ClassRead, func(s *Service, a Actor, l string) error {
			_, err := s.MemberList(ctx, a, MemberListRequest{List: l})
			return err
		}},
		{"member.export", ClassRead, func(s *Service, a Actor, l string) error {
			_, err := s.MemberExport(ctx, a, MemberExportRequest{List: l, Format: "json"})
			return err
		}},
		{"member.add", ClassAdmin, func(s *Service, a Actor, l string) error {
			_, err := s.MemberAdd(ctx, a, MemberAddRequest{List: l, Address: "new@subs.test"})
			return err
		}},
		{"member.remove", ClassAdmin, func(s *Service, a Actor, l string) error {
			return s.MemberRemove(ctx, a, MemberRemoveRequest{List: l, Address: "nobody@subs.test"})
		}},
		{"member.set", ClassAdmin, func(s *Service, a Actor, l string) error {
			name := "N"
			_, err := s.MemberSet(ctx, a, MemberSetRequest{List: l, Address: "nobody@subs.test", Name: &name})
			return err
		}},
		{"member.import", ClassAdmin, func(s *Service, a Actor, l string) error {
			_, err := s.MemberImport(ctx, a, MemberImportRequest{List: l, Data: []byte("x@subs.test\n"), DryRun: true})
			return err
		}},
		{"member.delivery of another", ClassAdmin, func(s *Service, a Actor, l string) error {
			_, err := s.MemberSetDelivery(ctx, a, MemberDeliveryRequest{List: l, Address: "nobody@subs.test", Delivery: "digest"})
			return err
		}},
		{"held.list", ClassModerate, func(s *Service, a Actor, l string) error {
			_, err := s.HeldList(ctx, a, HeldListRequest{List: l})
			return err
		}},
		{"held.show", ClassModerate, func(s *Service, a Actor, l string) error {
			_, err := s.HeldShow(ctx, a, HeldRef{List: l, ID: "nosuchpost"})
			return err
		}},
		{"held.approve", ClassModerate, func(s *Service, a Actor, l string) error {
			return s.HeldApprove(ctx, a, HeldRef{List: l, ID: "nosuchpost"})
		}},
		{"held.reject", ClassModerate, func(s *Service, a Actor, l string) error {
			return s.HeldReject(ctx, a, HeldRejectRequest{List: l, ID: "nosuchpost"})
		}},
		{"held.discard", ClassModerate, func(s *Service, a Actor, l string) error {
			return s.HeldDiscard(ctx, a, HeldRef{List: l, ID: "nosuchpost"})
		}},
		{"key.list", ClassRead, func(s *Service, a Actor, l string) error {
			_, err := s.KeyList(ctx, a, KeyListRequest{List: l})
			return err
		}},
		{"key.add", ClassAdmin, func(s *Service, a Actor, l string) error {
			_, err := s.KeyAdd(ctx, a, KeyAddRequest{List: l, Address: "nobody@subs.test", Key: []byte("x")})
			return err
		}},
		{"key.revoke", ClassAdmin, func(s *Service, a Actor, l string) error {
			return s.KeyRevoke(ctx, a, KeyRevokeRequest{List: l, Address: "nobody@subs.test"})
		}},
		{"bounce.list", ClassRead, func(s *Service, a Actor, l string) error {
			_, err := s.BounceList(ctx, a, ListRef{List: l})
			return err
		}},
		{"audit", ClassRead, func(s *Service, a Actor, l string) error {
			_, err := s.Audit(ctx, a, AuditRequest{List: l})
			return err
		}},
	}
}

// allowed says whether an error is anything but a refusal of the actor.
func allowed(err error) bool {
	c := Code(err)
	return c != CodeForbidden && c != CodeUnauthenticated
}

// TestScopeOperationMatrix: every operation on a list against every scope
// kind, on the token's own list and on another.
func TestScopeOperationMatrix(t *testing.T) {
	s := newTestService(t)
	covers := map[string]map[Class]bool{
		"site:admin":     {ClassSite: true, ClassAdmin: true, ClassModerate: true, ClassRead: true},
		"list:owner":     {ClassAdmin: true, ClassModerate: true, ClassRead: true},
		"list:moderator": {ClassModerate: true, ClassRead: true},
		"list:read":      {ClassRead: true},
	}
	for kind, classes := range covers {
		scope := kind
		if kind != "site:admin" {
			scope = "list:team@lists.test:" + kind[len("list:"):]
		}
		a := token(t, scope)
		for _, op := range matrixOps() {
			for _, list := range []string{"team@lists.test", "other@lists.test"} {
				want := classes[op.class] && (list == "team@lists.test" || kind == "site:admin")
				if op.class == ClassSite {
					want = kind == "site:admin"
				}
				err := op.run(s, a, list)
				if allowed(err) != want {
					t.Errorf("%s: %s on %s: %v, want allowed %v", scope, op.name, list, err, want)
				}
			}
		}
	}
}

// TestMethodOperationMatrix: every operation on a list against every
// method and role, with the built-in scenarios (admin.signed,
// moderate.signed): owner operations and reads of the roster for owners
// proven by a signature, moderation for moderators and owners so proven,
// site operations for nobody by mail or the web.
func TestMethodOperationMatrix(t *testing.T) {
	s := newTestService(t)
	roles := map[string]string{"owner": "ann@subs.test", "moderator": "mod@subs.test", "member": "bob@subs.test", "outsider": "zed@else.test"}
	signed := map[string]bool{rules.MethodPGP: true, rules.MethodSMIME: true}
	for role, addr := range roles {
		for _, m := range methods {
			a := Actor{Address: addr, Method: m, Via: ViaWeb}
			for _, op := range matrixOps() {
				var want bool
				switch op.class {
				case ClassAdmin, ClassRead:
					want = role == "owner" && signed[m]
				case ClassModerate:
					want = (role == "owner" || role == "moderator") && signed[m]
				}
				err := op.run(s, a, "team@lists.test")
				if allowed(err) != want {
					t.Errorf("%s by %s: %s: %v, want allowed %v", role, m, op.name, err, want)
				}
			}
		}
	}
}
