package service

import (
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/rules"
)

// newTestService is a service of a site in a temp dir with the lists
// team@lists.test (owner ann, moderator mod, members bob and cat) and
// other@lists.test (owner olga), deciding with the built-in scenarios.
func newTestService(t testing.TB, opts ...Option) *Service {
	t.Helper()
	dir := t.TempDir()
	cfg, err := config.Parse([]byte("state_dir = \"" + filepath.Join(dir, "state") + "\"\ndomain = \"lists.test\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	st, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	err = st.Lists.Update(func(tx *lists.Tx) error {
		for _, addr := range []string{"team@lists.test", "other@lists.test"} {
			l, err := lists.NewList(addr, time.Now())
			if err != nil {
				return err
			}
			if err := tx.CreateList(l); err != nil {
				return err
			}
		}
		for _, m := range []struct {
			list string
			m    *lists.Member
		}{
			{"team@lists.test", &lists.Member{Address: "ann@subs.test", Roles: []lists.Role{lists.RoleOwner, lists.RoleMember}}},
			{"team@lists.test", &lists.Member{Address: "mod@subs.test", Roles: []lists.Role{lists.RoleModerator, lists.RoleMember}}},
			{"team@lists.test", &lists.Member{Address: "bob@subs.test"}},
			{"team@lists.test", &lists.Member{Address: "cat@subs.test", Name: "Cat"}},
			{"other@lists.test", &lists.Member{Address: "olga@subs.test", Roles: []lists.Role{lists.RoleOwner, lists.RoleMember}}},
		} {
			if err := tx.AddMember(m.list, m.m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return New(st, append([]Option{WithScenarios(rules.NewScenarioSet(""))}, opts...)...)
}

// token is an API token actor with the scopes given as strings.
func token(t testing.TB, scopes ...string) Actor {
	t.Helper()
	a := Actor{Method: MethodToken, Via: ViaAPI, Token: "t1"}
	for _, s := range scopes {
		sc, err := ParseScope(s)
		if err != nil {
			t.Fatal(err)
		}
		a.Scopes = append(a.Scopes, sc)
	}
	return a
}

// person is an actor proven by mail with method.
func person(addr, method string) Actor { return Actor{Address: addr, Method: method, Via: ViaMail} }
