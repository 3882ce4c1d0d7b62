package commands

import "testing"

func TestReplySubject(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"help", "Re: help"},
		{"Confirm: subscribe dan@else.test", "Re: Confirm: subscribe dan@else.test"},
		{"Re: Confirm: subscribe", "Re: Confirm: subscribe"},
		{"Re: Re: Confirm: subscribe", "Re: Confirm: subscribe"},
		{"RE: AW: Sv: re[2]: Re(3):  subscribe", "Re: subscribe"},
		{"  Re:   ", ""},
		{"", ""},
		{"Result: Re: x", "Re: Result: Re: x"}, // only leading markers go
		{"Regarding the list", "Re: Regarding the list"},
	} {
		if got := replySubject(tt.in); got != tt.want {
			t.Errorf("replySubject(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
