package lists

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestMembers(t *testing.T) {
	const team = "team@lists.example.test"
	s, now := testStore(t)
	createList(t, s, team)
	createList(t, s, "other@lists.example.test")
	tests := []struct {
		name string
		fn   func(tx *Tx) error
		err  error
		msg  string
	}{
		{"add with defaults", func(tx *Tx) error {
			return tx.AddMember(team, &Member{Address: "Ann.Smith@Subs.Test", Name: "Ann Smith"})
		}, nil, ""},
		{"defaults stored", func(tx *Tx) error {
			m, err := tx.Member(team, "ann.smith@subs.test")
			if err != nil {
				return err
			}
			if m.Address != "Ann.Smith@Subs.Test" || m.Delivery != DeliveryEnabled ||
				!slices.Equal(m.Roles, []Role{RoleMember}) || !m.Subscribed.Equal(*now) || !m.Receives() {
				return fmt.Errorf("stored %+v", m)
			}
			return nil
		}, nil, ""},
		{"add again, other case", func(tx *Tx) error {
			return tx.AddMember(team, &Member{Address: "ANN.SMITH@subs.test"})
		}, ErrMemberExists, ""},
		{"add to unknown list", func(tx *Tx) error {
			return tx.AddMember("nope@lists.example.test", &Member{Address: "x@subs.test"})
		}, ErrNoList, ""},
		{"add bad address", func(tx *Tx) error {
			return tx.AddMember(team, &Member{Address: "Bob <bob@subs.test>"})
		}, ErrBadAddress, ""},
		{"add bad role", func(tx *Tx) error {
			return tx.AddMember(team, &Member{Address: "bob@subs.test", Roles: []Role{"admin"}})
		}, nil, "owner|moderator|member"},
		{"add digest", func(tx *Tx) error {
			if err := tx.AddMember(team, &Member{Address: "dig@subs.test", Delivery: DeliveryDigest}); err != nil {
				return err
			}
			if m, err := tx.Member(team, "dig@subs.test"); err != nil || !m.ReceivesDigest() || m.Receives() {
				return fmt.Errorf("digest member %+v: %v", m, err)
			}
			return tx.RemoveMember(team, "dig@subs.test")
		}, nil, ""},
		{"add bad delivery", func(tx *Tx) error {
			return tx.AddMember(team, &Member{Address: "bob@subs.test", Delivery: "sometimes"})
		}, nil, "enabled|disabled|digest"},
		{"add name with newline", func(tx *Tx) error {
			return tx.AddMember(team, &Member{Address: "bob@subs.test", Name: "Bob\nBcc: x"})
		}, nil, "control character"},
		{"add owner only", func(tx *Tx) error {
			return tx.AddMember(team, &Member{Address: "olga@subs.test", Roles: []Role{RoleOwner, RoleOwner}})
		}, nil, ""},
		{"add moderator subscriber, delivery off", func(tx *Tx) error {
			return tx.AddMember(team, &Member{Address: "mo@subs.test", Roles: []Role{RoleModerator, RoleMember}, Delivery: DeliveryDisabled})
		}, nil, ""},
		{"roster checks", func(tx *Tx) error {
			checks := []struct {
				f    func(list, addr string) (bool, error)
				addr string
				want bool
			}{
				{tx.IsSubscriber, "ann.smith@SUBS.test", true},
				{tx.IsOwner, "ann.smith@subs.test", false},
				{tx.IsOwner, "olga@subs.test", true},
				{tx.IsSubscriber, "olga@subs.test", false},
				{tx.IsModerator, "mo@subs.test", true},
				{tx.IsSubscriber, "mo@subs.test", true},
				{tx.IsSubscriber, "stranger@subs.test", false},
			}
			for _, c := range checks {
				got, err := c.f(team, c.addr)
				if err != nil || got != c.want {
					return fmt.Errorf("%s: got %v, %v; want %v", c.addr, got, err, c.want)
				}
			}
			if _, err := tx.IsOwner("nope@lists.example.test", "olga@subs.test"); !errors.Is(err, ErrNoList) {
				return fmt.Errorf("IsOwner on a missing list: %v", err)
			}
			m, _ := tx.Member(team, "olga@subs.test")
			if !slices.Equal(m.Roles, []Role{RoleOwner}) {
				return fmt.Errorf("roles not deduplicated: %v", m.Roles)
			}
			mo, _ := tx.Member(team, "mo@subs.test")
			if mo.Receives() || !mo.IsSubscriber() {
				return fmt.Errorf("disabled member receives: %+v", mo)
			}
			return nil
		}, nil, ""},
		{"put changes roles", func(tx *Tx) error {
			m, err := tx.Member(team, "olga@subs.test")
			if err != nil {
				return err
			}
			m.AddRole(RoleMember)
			m.RemoveRole(RoleOwner)
			return tx.PutMember(team, m)
		}, nil, ""},
		{"put read back", func(tx *Tx) error {
			m, err := tx.Member(team, "olga@subs.test")
			if err != nil {
				return err
			}
			if !slices.Equal(m.Roles, []Role{RoleMember}) {
				return fmt.Errorf("roles %v", m.Roles)
			}
			return nil
		}, nil, ""},
		{"put on unknown list", func(tx *Tx) error {
			return tx.PutMember("nope@lists.example.test", &Member{Address: "x@subs.test"})
		}, ErrNoList, ""},
		{"add to other list", func(tx *Tx) error {
			return tx.AddMember("other@lists.example.test", &Member{Address: "ann.smith@subs.test"})
		}, nil, ""},
		{"lists of", func(tx *Tx) error {
			got, err := tx.ListsOf("Ann.Smith@subs.test")
			if err != nil {
				return err
			}
			if want := []string{"other@lists.example.test", "team@lists.example.test"}; !slices.Equal(got, want) {
				return fmt.Errorf("ListsOf = %v, want %v", got, want)
			}
			return nil
		}, nil, ""},
		{"members sorted and counted", func(tx *Tx) error {
			ms, err := tx.Members(team)
			if err != nil {
				return err
			}
			var got []string
			for _, m := range ms {
				got = append(got, m.Key())
			}
			if want := []string{"ann.smith@subs.test", "mo@subs.test", "olga@subs.test"}; !slices.Equal(got, want) {
				return fmt.Errorf("Members = %v, want %v", got, want)
			}
			n, err := tx.CountMembers(team)
			if err != nil || n != 3 {
				return fmt.Errorf("CountMembers = %d, %v", n, err)
			}
			return nil
		}, nil, ""},
		{"for each stops on error", func(tx *Tx) error {
			stop := errors.New("stop")
			n := 0
			err := tx.ForEachMember(team, func(*Member) error {
				n++
				return stop
			})
			if !errors.Is(err, stop) || n != 1 {
				return fmt.Errorf("ForEachMember = %v after %d calls", err, n)
			}
			return nil
		}, nil, ""},
		{"remove", func(tx *Tx) error { return tx.RemoveMember(team, "ANN.smith@subs.test") }, nil, ""},
		{"remove again", func(tx *Tx) error { return tx.RemoveMember(team, "ann.smith@subs.test") }, ErrNoMember, ""},
		{"member gone", func(tx *Tx) error {
			_, err := tx.Member(team, "ann.smith@subs.test")
			return err
		}, ErrNoMember, ""},
		{"delete list removes roster", func(tx *Tx) error { return tx.DeleteList(team) }, nil, ""},
		{"lists of after delete", func(tx *Tx) error {
			got, err := tx.ListsOf("olga@subs.test")
			if err != nil || len(got) != 0 {
				return fmt.Errorf("ListsOf = %v, %v", got, err)
			}
			return nil
		}, nil, ""},
	}
	for _, tt := range tests {
		err := s.Update(tt.fn)
		switch {
		case tt.err != nil:
			if !errors.Is(err, tt.err) {
				t.Fatalf("%s: got %v, want %v", tt.name, err, tt.err)
			}
		case tt.msg != "":
			if err == nil || !strings.Contains(err.Error(), tt.msg) {
				t.Fatalf("%s: got %v, want an error containing %q", tt.name, err, tt.msg)
			}
		case err != nil:
			t.Fatalf("%s: %v", tt.name, err)
		}
	}
}

// TestLargeRoster streams a 10,000-member roster.
func TestLargeRoster(t *testing.T) {
	const list = "big@lists.example.test"
	s, _ := testStore(t)
	createList(t, s, list)
	mustUpdate(t, s, func(tx *Tx) error {
		for i := range 10000 {
			if err := tx.AddMember(list, &Member{Address: fmt.Sprintf("user%05d@subs.test", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	err := s.View(func(tx *Tx) error {
		n, prev := 0, ""
		err := tx.ForEachMember(list, func(m *Member) error {
			if m.Key() <= prev {
				return fmt.Errorf("out of order: %s after %s", m.Key(), prev)
			}
			prev = m.Key()
			n++
			return nil
		})
		if err == nil && n != 10000 {
			err = fmt.Errorf("streamed %d members", n)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}
