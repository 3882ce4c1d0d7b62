package runners

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestPartialSignatureDoesNotAuthenticate: on a list whose posts need pgp
// authentication, a signature by bob's bound key over only part of a post
// must not authenticate the whole: a clear-signed text part beside an
// unsigned part in a multipart/mixed, a PGP/MIME multipart/signed beside an
// unsigned part, and a clear-signed block with unsigned text after it in a
// text/plain body. None is distributed; bob's whole signed post is. Through
// the runners with gpg.
func TestPartialSignatureDoesNotAuthenticate(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, _, homes := identitySite(t)
	bob := homes["bob@subs.test"]
	clear := string(bob.Run([]byte("I agree.\n"), "--clearsign", "--local-user", "bob@subs.test"))
	header := func() string {
		return fmt.Sprintf("From: bob@subs.test\nTo: team@lists.test\nSubject: budget\nDate: %s\nMessage-ID: <%d@subs.test>\nMIME-Version: 1.0\n",
			time.Now().Format(time.RFC1123Z), mailSeq.Add(1))
	}
	// The multipart/signed entity of a signed mail, without the mail's header.
	_, signedPart, ok := strings.Cut(signedMail(bob, "bob@subs.test", "bob@subs.test", "team@lists.test", "x", "I agree.\n"), "MIME-Version: 1.0\n")
	if !ok || !strings.HasPrefix(signedPart, "Content-Type: multipart/signed") {
		t.Fatalf("signed part %q", signedPart)
	}
	for _, tc := range []struct{ marker, mail string }{
		{"PART-CLEAR-1e", header() + "Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\nContent-Type: text/plain\n\n" + clear +
			"\n--m\nContent-Type: text/plain\n\nPART-CLEAR-1e: send the money to eve\n--m--\n"},
		{"PART-MIME-2e", header() + "Content-Type: multipart/mixed; boundary=\"m\"\n\n--m\n" + signedPart +
			"\n--m\nContent-Type: text/plain\n\nPART-MIME-2e: send the money to eve\n--m--\n"},
		{"PART-TRAIL-3e", header() + "Content-Type: text/plain\n\n" + clear + "\nPART-TRAIL-3e: send the money to eve\n"},
	} {
		s.deliver(t, queue.SubPost, "bob@subs.test", tc.mail)
		s.drain(t)
		if received(t, s, "cat@subs.test", tc.marker) {
			t.Errorf("%s: a post signed only in part was distributed as bob's", tc.marker)
		}
	}
	s.deliver(t, queue.SubPost, "bob@subs.test", signedMail(bob, "bob@subs.test", "bob@subs.test", "team@lists.test", "budget", "WHOLE-4e\n"))
	s.drain(t)
	if !received(t, s, "cat@subs.test", "WHOLE-4e") {
		t.Fatal("bob's wholly signed post was not distributed")
	}
}
