package service

import (
	"context"
	"testing"
	"time"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/queue"
	"cloister/rules"
)

// TestHeldExpire: expiring held posts is the site's chore (site admins),
// run through the moderation code, and audited when it dropped anything.
// Each case starts with two held posts past their expiry and one token
// long expired.
func TestHeldExpire(t *testing.T) {
	later := time.Now().Add(400 * 24 * time.Hour)
	s := newTestService(t, WithClock(func() time.Time { return later }))
	st := s.Site()
	ctx := context.Background()
	held := func(t *testing.T) int {
		t.Helper()
		n := 0
		err := st.Lists.View(func(tx *lists.Tx) error {
			h, err := tx.ExpiredHeld(later)
			n = len(h)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
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
			for held(t) < 2 {
				name, err := st.Queue(queue.Held).EnqueueBytes(&queue.Meta{List: "team@lists.test", Decision: "hold: test", Encryption: "none"},
					[]byte("From: bob@subs.test\nSubject: held\n\nheld post\n"))
				if err != nil {
					t.Fatal(err)
				}
				err = st.Lists.Update(func(tx *lists.Tx) error {
					if err := tx.PutHeld(&lists.Held{List: "team@lists.test", File: "queue/" + queue.Held + "/" + name + ".msg", Reason: "test", Expires: time.Now()}); err != nil {
						return err
					}
					return tx.NewToken(&lists.Token{List: "team@lists.test", Address: "bob@subs.test", Action: "send", Expires: time.Now()}, 0)
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			res, err := s.HeldExpire(ctx, tc.a)
			if Code(err) != tc.want {
				t.Fatalf("HeldExpire: %v, want code %q", err, tc.want)
			}
			if tc.want != "" {
				if held(t) != 2 {
					t.Fatal("a refused request expired held posts")
				}
				return
			}
			if held(t) != 0 || res.Held != 2 || res.Tokens != 2 {
				t.Fatalf("result %+v, %d expired held posts left", res, held(t))
			}
			log := auditLog(t, s)
			if last := log[len(log)-1]; last.Op != "held.expire" || last.Target != "2 held posts, 2 tokens" || last.Result != "ok" {
				t.Errorf("audit entry %+v", last)
			}
		})
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
