package runners

import (
	"bytes"
	"strings"
	"testing"

	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

// TestRejectReasonOfEncryptedPostNotInClear: bob's signed and encrypted
// post is held; ann, a moderator, rejects it with a signed and encrypted
// command whose reason quotes the post. The reason is the moderator's own
// text about the plaintext, which both mails kept encrypted: the notice to
// bob must not carry it in clear on the wire (it is encrypted to bob's key,
// and bob reads it there). Through the runners with gpg. (A guard: the
// notice carries the post's lineage, so it leaves encrypted.)
func TestRejectReasonOfEncryptedPostNotInClear(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, _, homes := identitySite(t)
	ann, bob := homes["ann@subs.test"], homes["bob@subs.test"]
	s.setList(t, map[string]string{"send": "send.editorkey"})
	s.addRole(t, "ann@subs.test", lists.RoleModerator)
	const marker = "BUDGET-4711-SECRET"
	post := bob.PGPMIMEEncrypted("From: bob@subs.test\nTo: team@lists.test\nSubject: ...\nMessage-ID: <held-1@subs.test>\n",
		[]byte("Content-Type: text/plain\r\n\r\nThe budget is "+marker+".\r\n"), true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	s.drain(t)
	ids := s.heldIDs(t)
	if len(ids) != 1 {
		t.Fatalf("held posts %v; bad: %q", ids, s.badReasons(t))
	}
	before := len(s.mailbox(t, "bob@subs.test"))
	cmd := ann.PGPMIMEEncrypted("From: ann@subs.test\nTo: team-request@lists.test\nSubject: ...\nMessage-ID: <rej-1@subs.test>\n",
		[]byte("Content-Type: text/plain\r\n\r\nx-list-name team@lists.test\r\nreject "+ids[0]+" your figure "+marker+" is wrong\r\n"),
		true, "ann@subs.test", "team@lists.test")
	s.deliver(t, queue.SubRequest, "ann@subs.test", string(cmd))
	s.drain(t)
	if len(s.heldIDs(t)) != 0 {
		t.Fatalf("the post is still held; reply:\n%s", decryptReply(t, ann, lastMail(t, s, "ann@subs.test")))
	}
	got := false
	for _, m := range s.mailbox(t, "bob@subs.test")[before:] {
		if bytes.Contains(m, []byte(marker)) {
			t.Fatalf("the moderator's reason quoting the encrypted post went to bob in clear:\n%s", m)
		}
		if pt, _, err := bob.Decrypt(m); err == nil && strings.Contains(string(pt), marker) {
			got = true
		}
	}
	if !got {
		t.Fatalf("bob did not get the reason encrypted to his key; mail:\n%s", lastMail(t, s, "bob@subs.test"))
	}
}
