package lists

import (
	"errors"
	"strings"
	"testing"
)

func TestCanonicalAddress(t *testing.T) {
	tests := []struct {
		in, want string
		list     bool   // check as a list address
		err      string // substring of the error, "" for success
	}{
		{in: "Ann.Smith@Example.ORG", want: "ann.smith@example.org"},
		{in: "  bob+tag@subs.test ", want: "bob+tag@subs.test"},
		{in: "jörg@bücher.test", want: "jörg@bücher.test"},
		{in: "", err: "empty"},
		{in: "nobody", err: "no @"},
		{in: "@example.test", err: "local part"},
		{in: "ann@", err: "domain"},
		{in: "Ann <ann@subs.test>", err: "not allowed"},
		{in: "a b@subs.test", err: "not allowed"},
		{in: "ann@subs..test", err: "bad domain label"},
		{in: "ann@-subs.test", err: "bad domain label"},
		{in: "ann@subs_x.test", err: "not allowed in the domain"},
		{in: ".ann@subs.test", err: "misplaced dot"},
		{in: "ann\r\n@subs.test", err: "not allowed"},
		{in: "\xffann@subs.test", err: "not UTF-8"},
		{in: strings.Repeat("a", 65) + "@subs.test", err: "local part"},
		{in: "a@" + strings.Repeat("b", 250) + ".test", err: "longer than"},
		{in: "Team@Lists.Example.Test", want: "team@lists.example.test", list: true},
		{in: "team+x@lists.example.test", list: true, err: "'+'"},
		{in: "team-request@lists.example.test", list: true, err: "-request"},
		{in: "team-owner@lists.example.test", list: true, err: "-owner"},
		{in: "team-bounces@lists.example.test", list: true, err: "-bounces"},
		{in: "team-confirm@lists.example.test", list: true, err: "-confirm"},
		{in: "team-join@lists.example.test", list: true, err: "-join"},
		{in: "team-leave@lists.example.test", list: true, err: "-leave"},
		{in: "request-team@lists.example.test", want: "request-team@lists.example.test", list: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			f := CanonicalAddress
			if tt.list {
				f = CanonicalListAddress
			}
			got, err := f(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) || !errors.Is(err, ErrBadAddress) {
					t.Fatalf("got %q, %v; want ErrBadAddress containing %q", got, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func FuzzCanonicalAddress(f *testing.F) {
	for _, s := range []string{"ann@subs.test", "A@B.C", "x@@y", "team-request@l.test", "\"q\"@x.test", "a@b..c"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := CanonicalAddress(s)
		if err != nil {
			return
		}
		again, err := CanonicalAddress(got)
		if err != nil || again != got {
			t.Fatalf("canonical form %q of %q is not stable: %q, %v", got, s, again, err)
		}
		if len(got) > maxAddressLen*2 || strings.ContainsAny(got, " <>\r\n") {
			t.Fatalf("accepted %q", got)
		}
	})
}
