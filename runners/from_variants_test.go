package runners

import (
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestFromVariantsOfTheBoundAddress: bob signs with his bound key posts
// whose From is a variant of his address or names ann in a form the
// display-name rule may not know; the list needs pgp authentication. A From
// whose addr-spec is not bob's bound address (a +tag, a Cyrillic letter,
// two addresses) is not distributed; those that are distributed carry no
// header line that names ann, as an address, a full-width at sign, a
// comment or a Sender field ("ann on behalf of bob"). Through the runners
// with gpg.
func TestFromVariantsOfTheBoundAddress(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, _, homes := identitySite(t)
	bob := homes["bob@subs.test"]
	for _, tc := range []struct {
		marker, from, extra string
		distributed         bool
	}{
		{"VAR-CASE-01", "BOB@SUBS.TEST", "", true},
		{"VAR-TAG-02", "bob+x@subs.test", "", false},
		{"VAR-CYRILLIC-03", "b\u043eb@subs.test", "", false},
		{"VAR-TWO-04", "bob@subs.test, ann@subs.test", "", false},
		{"VAR-COMMENT-05", "bob@subs.test (ann@subs.test)", "", true},
		{"VAR-FULLWIDTH-06", "\"ann\uff20subs.test\" <bob@subs.test>", "", true},
		{"VAR-SENDER-07", "bob@subs.test", "Sender: ann@subs.test\n", true},
	} {
		mail := signedMail(bob, "bob@subs.test", tc.from, "team@lists.test", "budget", tc.marker+"\n")
		mail = tc.extra + mail
		s.deliver(t, queue.SubPost, "bob@subs.test", mail)
		s.drain(t)
		var got string
		for _, m := range s.mailbox(t, "cat@subs.test") {
			if strings.Contains(string(m), tc.marker) {
				got = string(m)
			}
		}
		if (got != "") != tc.distributed {
			t.Errorf("%s: From %q distributed: %v, want %v", tc.marker, tc.from, got != "", tc.distributed)
			continue
		}
		head, _, _ := strings.Cut(strings.ReplaceAll(got, "\r\n", "\n"), "\n\n")
		for _, l := range strings.Split(head, "\n") {
			low := strings.ToLower(l)
			if strings.Contains(low, "ann@") || strings.Contains(low, "ann\uff20") || strings.Contains(low, "=ef=bc=a0") ||
				(strings.HasPrefix(low, "sender:") && !strings.Contains(low, "lists.test")) {
				t.Errorf("%s: cat's copy names ann in a header line: %q", tc.marker, l)
			}
		}
	}
}
