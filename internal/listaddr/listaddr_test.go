package listaddr

import (
	"strings"
	"testing"
)

func TestResolve(t *testing.T) {
	idx, err := ParseIndex(strings.NewReader("# lists\nteam@l.test\nops-request@l.test\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		rcpt, list, sub, ext string
		ok                   bool
	}{
		{"team@l.test", "team@l.test", "post", "", true},
		{"<Team@L.TEST>", "team@l.test", "post", "", true},
		{"team-request@l.test", "team@l.test", "request", "", true},
		{"team-owner@l.test", "team@l.test", "owner", "", true},
		{"team-bounces+ann=x.org@l.test", "team@l.test", "bounces", "ann=x.org", true},
		{"team-confirm+abc123@l.test", "team@l.test", "confirm", "abc123", true},
		{"team-join@l.test", "team@l.test", "join", "", true},
		{"team-leave@l.test", "team@l.test", "leave", "", true},
		{"team-sendkey@l.test", "team@l.test", "sendkey", "", true},
		{"team+tag@l.test", "team@l.test", "post", "tag", true},
		{"ops-request@l.test", "ops-request@l.test", "post", "", true},
		{"team@other.test", "", "", "", false},
		{"nobody@l.test", "", "", "", false},
		{"-request@l.test", "", "", "", false},
		{"garbage", "", "", "", false},
	} {
		list, sub, ext, ok := idx.Resolve(tc.rcpt)
		if list != tc.list || sub != tc.sub || ext != tc.ext || ok != tc.ok {
			t.Errorf("Resolve(%q) = %q %q %q %v, want %q %q %q %v", tc.rcpt, list, sub, ext, ok, tc.list, tc.sub, tc.ext, tc.ok)
		}
	}
	if a := Address("team@l.test", "request"); a != "team-request@l.test" {
		t.Errorf("Address = %q", a)
	}
}

// TestEverySubaddressResolves: each subaddress of the one table is routed
// by Resolve and named by Address, with and without an extension where it
// takes one, so a subaddress cannot be added without deliver knowing it.
func TestEverySubaddressResolves(t *testing.T) {
	idx, _ := ParseIndex(strings.NewReader("team@l.test\n"))
	seen := map[string]bool{}
	for _, s := range Suffixes {
		if seen[s.Sub] || seen[s.Suffix] {
			t.Fatalf("%s/%s listed twice", s.Sub, s.Suffix)
		}
		seen[s.Sub], seen[s.Suffix] = true, true
		a := Address("team@l.test", s.Sub)
		if a != "team"+s.Suffix+"@l.test" {
			t.Errorf("Address(%s) = %s", s.Sub, a)
		}
		if list, sub, _, ok := idx.Resolve(a); !ok || list != "team@l.test" || sub != s.Sub {
			t.Errorf("Resolve(%s) = %s %s %v", a, list, sub, ok)
		}
		if s.Extension {
			x := AddressExt("team@l.test", s.Sub, "abc")
			if _, sub, ext, ok := idx.Resolve(x); !ok || sub != s.Sub || ext != "abc" {
				t.Errorf("Resolve(%s) = %s %s %v", x, sub, ext, ok)
			}
		}
		if got, ok := ReservedSuffix("team" + strings.ToUpper(s.Suffix)); !ok || got != s.Suffix {
			t.Errorf("ReservedSuffix(team%s) = %q %v", s.Suffix, got, ok)
		}
	}
	if subs := Subaddresses(); len(subs) != len(Suffixes)+1 || subs[0] != SubPost {
		t.Errorf("Subaddresses() = %v", subs)
	}
	if _, ok := ReservedSuffix("team"); ok {
		t.Error("team reserved")
	}
}

func TestAddressExt(t *testing.T) {
	for _, tc := range []struct {
		list, sub, ext, want string
	}{
		{"team@l.test", SubConfirm, "tok", "team-confirm+tok@l.test"},
		{"team@l.test", SubBounces, "tag-ann=x.org", "team-bounces+tag-ann=x.org@l.test"},
		{"team@l.test", SubBounces, "", "team-bounces@l.test"},
		{"team@l.test", SubPost, "x", "team+x@l.test"},
		{"a@b@l.test", SubRequest, "x", "a@b-request+x@l.test"},
		{"team", SubConfirm, "tok", "team"}, // no domain: nothing to add to
	} {
		if got := AddressExt(tc.list, tc.sub, tc.ext); got != tc.want {
			t.Errorf("AddressExt(%q, %q, %q) = %q, want %q", tc.list, tc.sub, tc.ext, got, tc.want)
		}
	}
}
