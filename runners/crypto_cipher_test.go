package runners

import (
	"bytes"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestPostUnsupportedCipher: a post encrypted to the list's key with a
// cipher the list lacks (GnuPG's Twofish) is refused with the one fixed
// answer, which says that OpenPGP mail must use AES but does not name the
// cipher (GnuPG names it only inside the session key, which the list's key
// decrypts: naming it to whoever sent the mail would be a decryption
// oracle); the operator's log names it. The post is not distributed.
func TestPostUnsupportedCipher(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	bob := homes["bob@subs.test"]
	ct := bob.Run([]byte("Hello list\n"), "--armor", "--encrypt", "--cipher-algo", "TWOFISH", "-r", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: x\nContent-Type: text/plain\n\n"+string(ct))
	s.drain(t)
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
	box := s.mailbox(t, "bob@subs.test")
	if len(box) != 1 {
		t.Fatalf("bob got %d mails", len(box))
	}
	pt, _, err := bob.Decrypt(armoredPart(t, box[0]))
	if err != nil || !bytes.Contains(pt, []byte("The list could not read your message")) || !bytes.Contains(pt, []byte("must be encrypted with AES")) {
		t.Fatalf("bob's answer: %v\n%s", err, pt)
	}
	if bytes.Contains(pt, []byte("names the cipher")) {
		t.Fatalf("the answer names the cipher decrypted with the list key:\n%s", pt)
	}
	if !strings.Contains(s.logs.String(), "the cipher Twofish is not supported") {
		t.Fatalf("the log does not name the cipher:\n%s", s.logs.String())
	}
	if len(s.mailbox(t, "ann@subs.test")) != 0 {
		t.Fatal("the unreadable post was distributed")
	}
}
