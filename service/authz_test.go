package service

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"cloister/lists"
	"cloister/rules"
)

var methods = []string{rules.MethodSMTP, rules.MethodMD5, rules.MethodPGP, rules.MethodSMIME}

// classOps runs one operation of a class on team@lists.test as actor a.
func classOps(s *Service) map[Class]func(a Actor) error {
	ctx := context.Background()
	return map[Class]func(a Actor) error{
		ClassAdmin: func(a Actor) error {
			_, err := s.ListSet(ctx, a, ListSetRequest{List: "team", Settings: map[string]string{"footer": "hi"}})
			return err
		},
		ClassRead: func(a Actor) error {
			_, err := s.MemberList(ctx, a, MemberListRequest{List: "team"})
			return err
		},
		ClassModerate: func(a Actor) error {
			_, err := s.HeldList(ctx, a, HeldListRequest{List: "team"})
			return err
		},
		ClassSite: func(a Actor) error {
			_, err := s.ListCreate(ctx, a, ListCreateRequest{Address: "new"})
			return err
		},
	}
}

// TestPersonAuthorizationMatrix: with the built-in scenarios (admin.signed,
// moderate.signed), each method and role against each class of operation:
// owner operations need an owner proven by a signature, moderator ones a
// moderator or owner so proven, site operations are the operator's.
func TestPersonAuthorizationMatrix(t *testing.T) {
	s := newTestService(t)
	roles := map[string]string{"owner": "ann@subs.test", "moderator": "mod@subs.test", "member": "bob@subs.test", "outsider": "zed@else.test"}
	signed := map[string]bool{rules.MethodPGP: true, rules.MethodSMIME: true}
	for role, addr := range roles {
		for _, m := range methods {
			a := Actor{Address: addr, Method: m, Via: ViaWeb}
			want := map[Class]bool{
				ClassAdmin:    role == "owner" && signed[m],
				ClassRead:     role == "owner" && signed[m],
				ClassModerate: (role == "owner" || role == "moderator") && signed[m],
				ClassSite:     false,
			}
			for class, op := range classOps(s) {
				err := op(a)
				if want[class] && err != nil {
					t.Errorf("%s %s: %s: %v, want allowed", role, m, class, err)
				}
				if !want[class] && Code(err) != CodeForbidden {
					t.Errorf("%s %s: %s: %q (%v), want forbidden", role, m, class, Code(err), err)
				}
			}
		}
	}
}

// TestOwnerOperationsNeverOnSMTP: a site scenario that lets anyone run the
// owner operations still refuses them to unproven mail (smtp), and to
// nothing else: the refusal the email commands make, made by the service.
func TestOwnerOperationsNeverOnSMTP(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "admin.anyone"), []byte("true() smtp,md5,pgp,smime -> do_it\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "moderate.anyone"), []byte("true() smtp,md5,pgp,smime -> do_it\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := newTestService(t, WithScenarios(rules.NewScenarioSet(dir)))
	err := s.site.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List("team@lists.test")
		if err != nil {
			return err
		}
		l.Settings.Admin, l.Settings.Moderate = "admin.anyone", "moderate.anyone"
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
	ops := classOps(s)
	for _, m := range methods {
		for _, class := range []Class{ClassAdmin, ClassModerate} {
			err := ops[class](Actor{Address: "zed@else.test", Method: m, Via: ViaWeb})
			if m == rules.MethodSMTP {
				if Code(err) != CodeForbidden || Message(err) != ReasonText("owner_smtp") {
					t.Errorf("%s on smtp: %v, want the owner_smtp refusal", class, err)
				}
			} else if err != nil {
				t.Errorf("%s on %s: %v, want allowed by the site's scenario", class, m, err)
			}
		}
	}
}

// TestUnknownMethodUnauthenticated: an actor whose method is none of the
// known, or a person without an address, is not authenticated.
func TestUnknownMethodUnauthenticated(t *testing.T) {
	s := newTestService(t)
	for _, a := range []Actor{{Address: "ann@subs.test", Method: "password"}, {Address: "ann@subs.test"}, {Method: rules.MethodPGP}} {
		_, err := s.MemberList(context.Background(), a, MemberListRequest{List: "team"})
		if Code(err) != CodeUnauthenticated {
			t.Errorf("%+v: %v, want unauthenticated", a, err)
		}
	}
}
