package runners

import (
	"bytes"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// TestInlinePostsKeepAuthorSignature: through the runners, an inline
// signed+encrypted post (gpg --encrypt --sign -a, text mode and binary) and
// an inline-signed one (gpg --sign -a) from a member reach the other member
// encrypted to their key and signed by the list; once decrypted, the text
// still carries bob's signature, which gpg verifies as bob's. The list
// takes only posts with a good signature, so each was judged good.
func TestInlinePostsKeepAuthorSignature(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	for _, tt := range []struct {
		name string
		args []string
		enc  string
	}{
		{"inline signed+encrypted, text mode", []string{"--encrypt", "--sign", "--textmode", "-r", "team@lists.test"}, "pgp-inline"},
		{"inline signed+encrypted, binary", []string{"--encrypt", "--sign", "-r", "team@lists.test"}, "pgp-inline"},
		{"inline-signed", []string{"--sign"}, "none"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			s, homes := encryptedSite(t)
			s.setList(t, map[string]string{"pgp_post_sign": "force"}) // distributed only with a good signature
			bob, ann := homes["bob@subs.test"], homes["ann@subs.test"]
			text := "The meeting moves to the back room.\r\n"
			armored := bob.Run([]byte(text), append([]string{"--armor", "-u", "bob@subs.test"}, tt.args...)...)
			s.deliver(t, queue.SubPost, "bob@subs.test", "From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Plans\nMessage-ID: <inline@subs.test>\nContent-Type: text/plain\n\n"+string(armored))
			s.drain(t)
			if r := s.badReasons(t); len(r) != 0 {
				t.Fatalf("bad: %q", r)
			}
			box := s.mailbox(t, "ann@subs.test")
			if len(box) != 1 {
				t.Fatalf("ann received %d messages", len(box))
			}
			pt, status, err := ann.Decrypt(armoredPart(t, box[0]))
			if err != nil || !strings.Contains(status, "GOODSIG") {
				t.Fatalf("ann cannot open her copy with the list's signature: %v\n%s", err, status)
			}
			ent, err := rawmime.Parse(pt)
			if err != nil {
				t.Fatal(err)
			}
			ann.Import(s.mem.ExportFor(t, "bob@subs.test"))
			i := bytes.Index(ent.Body, []byte("-----BEGIN PGP "))
			if i < 0 {
				t.Fatalf("bob's signature did not travel with the post:\n%s", pt)
			}
			out, status, err := ann.Exec(ent.Body[i:], "--decrypt")
			if err != nil || !strings.Contains(status, "GOODSIG") || !strings.Contains(string(out), "back room") {
				t.Fatalf("gpg does not verify bob's signature in the copy: %v\n%s\n%s", err, status, pt)
			}
			fpr := bob.Fingerprint("bob@subs.test")
			if !strings.Contains(status, fpr[len(fpr)-16:]) {
				t.Fatalf("the kept signature is not bob's:\n%s", status)
			}
		})
	}
}
