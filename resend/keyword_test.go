package resend

import (
	"testing"

	"cloister/mailmsg"
)

// TestTakeResendKeywords: the resend keywords, with or without Schleuder's
// x- prefix, in any case, are taken from the top of the text; other lines
// are not.
func TestTakeResendKeywords(t *testing.T) {
	for _, c := range []struct {
		line        string
		cc, encOnly bool
		ok          bool
	}{
		{"resend dan@x.test", false, false, true},
		{"x-resend: dan@x.test", false, false, true},
		{"X-RESEND-CC dan@x.test", true, false, true},
		{"x-resend-encrypted-only dan@x.test", false, true, true},
		{"x-resend-cc-encrypted-only: dan@x.test", true, true, true},
		{"y-resend dan@x.test", false, false, false},
		{"resent dan@x.test", false, false, false},
	} {
		msg, err := mailmsg.Parse([]byte("From: b@x.test\nContent-Type: text/plain\n\n" + c.line + "\nbody\n"))
		if err != nil {
			t.Fatal(err)
		}
		orders, _, ok := Take(msg)
		if ok != c.ok {
			t.Errorf("%q: ok %v", c.line, ok)
			continue
		}
		if !ok {
			continue
		}
		if len(orders) != 1 || orders[0].CC != c.cc || orders[0].EncryptedOnly != c.encOnly || orders[0].Addrs[0] != "dan@x.test" {
			t.Errorf("%q: orders %+v", c.line, orders)
		}
		if string(msg.Body) != "body\n" {
			t.Errorf("%q: body left %q", c.line, msg.Body)
		}
	}
}
