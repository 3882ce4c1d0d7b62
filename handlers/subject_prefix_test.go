package handlers

import (
	"testing"

	"cloister/mailmsg"
)

func TestPrefixSubject(t *testing.T) {
	for _, c := range []struct{ in, prefix, want string }{
		{"hi", "[x] ", "[x] hi"},
		{"[x] hi", "[x] ", "[x] hi"},
		{"Re: [x] Re: [x] hi", "[x] ", "Re: [x] hi"},
		{"Re: Re: Re: hi", "[x] ", "Re: [x] hi"},
		{"[X] RE: hi", "[x] ", "Re: [x] hi"},
		{"Aw: Sv: [x] hi", "[x] ", "Re: [x] hi"},
		{"Re[3]: hi", "[x] ", "Re: [x] hi"},
		{"Fwd: [x] hi", "[x] ", "[x] Fwd: hi"},
		{"[x][x] hi", "[x] ", "[x] hi"},
		{"", "[x] ", "[x] (no subject)"},
		{"Re:", "[x] ", "Re: [x] (no subject)"},
		{"Rebus: hi", "[x] ", "[x] Rebus: hi"},
		{"hi", "[x]", "[x] hi"},
		{"Re: [équipe] ça va", "[équipe] ", "Re: [équipe] ça va"},
		{"bad \xff byte", "[x] ", "[x] bad \uFFFD byte"},
	} {
		if got := PrefixSubject(c.in, c.prefix); got != c.want {
			t.Errorf("PrefixSubject(%q, %q) = %q, want %q", c.in, c.prefix, got, c.want)
		}
	}
}

// TestSubjectPrefixEncoded checks RFC 2047 subjects: decoded before the
// check, re-encoded when not ASCII, and stable over a second pass.
func TestSubjectPrefixEncoded(t *testing.T) {
	for _, c := range []struct{ subject, decoded string }{
		{"=?utf-8?q?Re=3A_=5Bteam=5D_Re=3A_=5Bteam=5D_Gr=C3=BC=C3=9Fe?=", "Re: [team] Grüße"},
		{"=?ISO-8859-1?Q?Re:_[team]_g=E4ste?=", "Re: [team] gäste"},
		{"=?utf-8?b?W3RlYW1dIOaXpeacrA==?=", "[team] 日本"},
		{"Re: =?utf-8?q?=5Bteam=5D?= hi", "Re: [team] hi"},
	} {
		ctx := newTestContext(t, []byte("From: a@example.org\nSubject: "+c.subject+"\n\nx\n"), caseConfig{})
		for pass := 0; pass < 2; pass++ {
			if err := (SubjectPrefix{}).Process(ctx); err != nil {
				t.Fatal(err)
			}
			raw := ctx.Msg.Get("Subject")
			if got := mailmsg.DecodeHeader(raw); got != c.decoded {
				t.Errorf("%q pass %d: decoded %q, want %q (raw %q)", c.subject, pass, got, c.decoded, raw)
			}
			if !isASCII(raw) {
				t.Errorf("%q: the new Subject is not ASCII: %q", c.subject, raw)
			}
		}
	}
}
