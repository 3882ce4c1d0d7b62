package service

import (
	"context"
	"testing"
	"time"

	"cloister/internal/site"
	"cloister/rules"
)

// TestHeldExpire: expiring held posts is the site's chore (site admins),
// run through the moderation code, and audited when it dropped anything.
func TestHeldExpire(t *testing.T) {
	calls := 0
	s := newTestService(t, WithModeration(Moderation{Expire: func(*site.Site, time.Time) (int, int, error) {
		calls++
		return 2, 1, nil
	}}))
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		a    Actor
		want string
	}{
		{"an owner's token", token(t, "list:team@lists.test:owner"), CodeForbidden},
		{"an owner by mail", person("ann@subs.test", rules.MethodPGP), CodeForbidden},
		{"a site admin's token", token(t, "site:admin"), ""},
		{"the console", Console(), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := calls
			res, err := s.HeldExpire(ctx, tc.a)
			if Code(err) != tc.want {
				t.Fatalf("HeldExpire: %v, want code %q", err, tc.want)
			}
			if tc.want != "" {
				if calls != before {
					t.Fatal("a refused request expired held posts")
				}
				return
			}
			if calls != before+1 || res.Held != 2 || res.Tokens != 1 {
				t.Fatalf("result %+v after %d calls", res, calls-before)
			}
			log := auditLog(t, s)
			if last := log[len(log)-1]; last.Op != "held.expire" || last.Target != "2 held posts, 1 tokens" || last.Result != "ok" {
				t.Errorf("audit entry %+v", last)
			}
		})
	}
	if _, err := New(s.Site()).HeldExpire(ctx, Console()); Code(err) != CodeUnavailable {
		t.Errorf("HeldExpire without moderation: %v, want unavailable", err)
	}
}

// TestKeyExpiryNotices: the expiry notices are the site's chore (site
// admins), and queueing some is audited.
func TestKeyExpiryNotices(t *testing.T) {
	calls := 0
	s := newTestService(t, WithKeyExpiryNotices(func(*site.Site, time.Time) (int, error) {
		calls++
		return 3, nil
	}))
	ctx := context.Background()
	if _, err := s.KeyExpiryNotices(ctx, token(t, "list:team@lists.test:owner")); Code(err) != CodeForbidden || calls != 0 {
		t.Fatalf("an owner's token: %v after %d calls, want forbidden", err, calls)
	}
	n, err := s.KeyExpiryNotices(ctx, Console())
	if err != nil || n != 3 || calls != 1 {
		t.Fatalf("the console: %d, %v after %d calls", n, err, calls)
	}
	log := auditLog(t, s)
	if last := log[len(log)-1]; last.Op != "key.expiry" || last.Target != "3 notices" {
		t.Errorf("audit entry %+v", last)
	}
	if _, err := New(s.Site()).KeyExpiryNotices(ctx, Console()); Code(err) != CodeUnavailable {
		t.Errorf("without the notices: %v, want unavailable", err)
	}
}
