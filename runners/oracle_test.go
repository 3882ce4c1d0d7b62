package runners

import (
	"bytes"
	"strings"
	"testing"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/notices"
	"cloister/queue"
)

// replayAs is what an attacker on the network does with a captured
// message: the same body (the ciphertext), under a header naming their own
// address as From.
func replayAs(captured []byte, from, to string) string {
	i := bytes.Index(captured, []byte("\n\n"))
	var h strings.Builder
	for _, l := range strings.Split(string(captured[:i]), "\n") {
		name := strings.ToLower(l)
		if strings.HasPrefix(name, "from:") || strings.HasPrefix(name, "to:") || strings.HasPrefix(name, "message-id:") {
			continue
		}
		h.WriteString(l + "\n")
	}
	return "From: " + from + "\nTo: " + to + "\nMessage-ID: <replay-" + to + "@else.test>\n" + h.String() + string(captured[i:])
}

// noMarkerFor fails when anything rcpt received holds marker, in clear or
// once decrypted with rcpt's own gpg.
func noMarkerFor(t *testing.T, s *testSite, h *gnupg.Home, rcpt, marker string) int {
	t.Helper()
	box := s.mailbox(t, rcpt)
	for _, m := range box {
		if bytes.Contains(bytes.ToLower(m), []byte(strings.ToLower(marker))) {
			t.Errorf("%s got the plaintext in clear:\n%s", rcpt, m)
		}
		if !bytes.Contains(m, []byte("multipart/encrypted")) {
			continue
		}
		pt, _, err := h.Decrypt(armoredPart(t, m))
		if err != nil {
			t.Errorf("%s cannot decrypt what it got: %v", rcpt, err)
		}
		if bytes.Contains(bytes.ToLower(pt), []byte(strings.ToLower(marker))) {
			t.Errorf("%s got the plaintext encrypted to its own key:\n%s", rcpt, pt)
		}
	}
	return len(box)
}

// TestRequestIsNoDecryptionOracle: an outsider with a key on file captures
// a member's encrypted mail (a signed command mail, an unsigned one, and a
// signed post) and resends each ciphertext under their own From to
// LIST-request and LIST-owner. Whatever comes back to them, opened with
// their own gpg, holds nothing of the plaintext; neither do the log and the
// files under the state directory. The member's own mail is still answered
// in full, encrypted to the member.
func TestRequestIsNoDecryptionOracle(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	const marker = "ORACLE-MARKER-5e1d"
	dan := homes["dan@else.test"]
	keys.subs["dan@else.test"] = readKey(t, dan.ExportPublic("dan@else.test"))
	bob := homes["bob@subs.test"]
	hdr := "From: bob@subs.test\nTo: team-request@lists.test\nSubject: ...\n"
	captured := map[string][]byte{
		"signed commands": bob.PGPMIMEEncrypted(hdr,
			[]byte("Content-Type: text/plain\n\nx-list-name team@lists.test\nwhich\n"+marker+"-line\nhelp "+marker+"-arg\n"), true, "bob@subs.test", "team@lists.test"),
		"unsigned commands": bob.PGPMIMEEncrypted(hdr,
			[]byte("Content-Type: text/plain\n\n"+marker+"-first\nwhich\n"), false, "", "team@lists.test"),
		"signed post": bob.PGPMIMEEncrypted("From: bob@subs.test\nTo: team@lists.test\nSubject: ...\n",
			[]byte("Content-Type: text/plain\nSubject: "+marker+"-subject\n\n"+marker+" the plans are in the back room\n"), true, "bob@subs.test", "team@lists.test"),
	}
	for name, c := range captured {
		if bytes.Contains(c, []byte(marker)) {
			t.Fatalf("%s: the capture is not encrypted", name)
		}
		for _, sub := range []string{queue.SubRequest, queue.SubOwner} {
			s.deliver(t, sub, "dan@else.test", replayAs(c, "dan@else.test", "team-"+sub+"@lists.test"))
		}
	}
	s.drain(t)
	if n := noMarkerFor(t, s, dan, "dan@else.test", marker); n == 0 {
		t.Fatal("the outsider got no answer at all: the test proves nothing")
	}
	if strings.Contains(strings.ToLower(s.logs.String()), strings.ToLower(marker)) {
		t.Errorf("the log holds the plaintext:\n%s", s.logs)
	}
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Errorf("plaintext on disk: %v", hits)
	}

	// Bob's own signed command mail is answered in full, encrypted to him.
	s.deliver(t, queue.SubRequest, "bob@subs.test", string(captured["signed commands"]))
	s.drain(t)
	if r := decryptReply(t, bob, lastMail(t, s, "bob@subs.test")); !strings.Contains(r, "> "+marker+"-line") {
		t.Fatalf("bob's reply:\n%s", r)
	}
}

// TestEncryptedMailLeavesNoWordsInClear: encrypted command mails (signed
// and unsigned) and an encrypted post held for its protected Subject (a
// command word) go through the runners; no log line, no held record and no
// file under the state directory holds a word of them: the log names
// commands from the table, the held record and the clear metadata give the
// rules' fixed descriptions. (A command's own effect may store what it
// names, such as a subscribe confirmation for an address: these commands
// have none.)
func TestEncryptedMailLeavesNoWordsInClear(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	const marker = "logmarker-90ab"
	bob := homes["bob@subs.test"]
	hdr := "From: bob@subs.test\nTo: team-request@lists.test\nSubject: ...\n"
	s.deliver(t, queue.SubRequest, "bob@subs.test", string(bob.PGPMIMEEncrypted(hdr,
		[]byte("Content-Type: text/plain\n\nx-list-name team@lists.test\nwhich\n"+marker+"-line\nremove "+marker+"@else.test\n"), true, "bob@subs.test", "team@lists.test")))
	s.deliver(t, queue.SubRequest, "bob@subs.test", string(bob.PGPMIMEEncrypted(hdr,
		[]byte("Content-Type: text/plain\n\n"+marker+"-first\ninfo "+marker+"-arg\n"), false, "", "team@lists.test")))
	s.deliver(t, queue.SubPost, "bob@subs.test", string(bob.PGPMIMEEncrypted("From: bob@subs.test\nTo: team@lists.test\nSubject: ...\n",
		[]byte("Content-Type: text/plain; protected-headers=\"v1\"\nSubject: unsubscribe "+marker+"\n\nplease take me off\n"), true, "bob@subs.test", "team@lists.test")))
	s.drain(t)

	held := heldPosts(t, s)
	if len(held) != 1 {
		t.Fatalf("%d held posts, want the one held by the administrivia rule", len(held))
	}
	leaks := []string{marker, `command "unsubscribe"`, `command \"unsubscribe\"`}
	for _, l := range leaks {
		if strings.Contains(strings.ToLower(s.logs.String()), strings.ToLower(l)) {
			t.Errorf("the log holds %q:\n%s", l, s.logs)
		}
		if hits := grepTree(t, s.Config.StateDir, l); len(hits) != 0 {
			t.Errorf("%q on disk: %v", l, hits)
		}
		if strings.Contains(held[0].Reason+string(held[0].Meta), l) {
			t.Errorf("the held record holds %q: %+v", l, held[0])
		}
	}
	if !strings.Contains(held[0].Reason, "looks like an email command") {
		t.Errorf("held record reason %q: want the rule's description", held[0].Reason)
	}
	if !strings.Contains(s.logs.String(), "which: done") {
		t.Errorf("the log does not name the commands carried out:\n%s", s.logs)
	}
}

// TestRefusalNoticesLimited: a sender whose mail the list cannot read
// gets the fixed answer notices.RefusalNoticeLimit times, then nothing; the mail is
// still refused (nothing in bad, nothing distributed).
func TestRefusalNoticesLimited(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes := encryptedSite(t)
	other := gnupg.New(t)
	other.GenKey("stranger <stranger@else.test>", "cv25519")
	homes["bob@subs.test"].Import(other.ExportPublic("stranger@else.test"))
	post := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob@subs.test\nSubject: x\n", []byte("Content-Type: text/plain\n\nhello\n"), false, "", "stranger@else.test")
	for i := 0; i < notices.RefusalNoticeLimit+2; i++ {
		s.deliver(t, queue.SubPost, "bob@subs.test", string(post))
	}
	s.drain(t)
	if n := len(s.mailbox(t, "bob@subs.test")); n != notices.RefusalNoticeLimit {
		t.Fatalf("bob got %d notices, want %d", n, notices.RefusalNoticeLimit)
	}
	if r := s.badReasons(t); len(r) != 0 || len(s.mailbox(t, "ann@subs.test")) != 0 {
		t.Fatalf("bad %q, or distributed", r)
	}
	if !strings.Contains(s.logs.String(), "notice limit for the sender reached") {
		t.Fatal("the unanswered refusals are not logged")
	}
}

// TestOpaqueSubaddresses: mail encrypted to the list key and sent to
// -join, -leave, -sendkey or -bounces is not decrypted (nothing there has a
// use for its content): it is routed as it came.
func TestOpaqueSubaddresses(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	const marker = "OPAQUE-MARKER-11d0"
	for _, sub := range []string{queue.SubJoin, queue.SubLeave, queue.SubSendkey, queue.SubBounces} {
		s.deliver(t, sub, "dan@else.test", string(homes["dan@else.test"].PGPMIMEEncrypted(
			"From: dan@else.test\nTo: team-"+sub+"@lists.test\nSubject: ...\n",
			[]byte("Content-Type: text/plain\n\n"+marker+"\n"), true, "dan@else.test", "team@lists.test")))
	}
	s.drain(t)
	routed := 0
	for _, l := range strings.Split(s.logs.String(), "\n") {
		if !strings.Contains(l, "msg=routed") {
			continue
		}
		routed++
		if !strings.Contains(l, "encryption=none") {
			t.Errorf("decrypted: %s", l)
		}
	}
	if routed != 4 {
		t.Fatalf("%d mails routed, want 4:\n%s", routed, s.logs)
	}
	if hits := grepTree(t, s.Config.StateDir, marker); len(hits) != 0 {
		t.Fatalf("plaintext on disk: %v", hits)
	}
	if box := s.mailbox(t, "dan@else.test"); len(box) == 0 || bytes.Contains(bytes.Join(box, nil), []byte(marker)) {
		t.Fatalf("dan got %d mails, or the plaintext", len(box))
	}
}

// TestEncryptedPostPipelineRejectionSaysNoContent: a post that arrived
// encrypted and is refused by a pipeline handler (content_filter: nothing of
// a type the list accepts) gets a notice, and leaves a log line, that do
// not name what it held (the file name of its attachment).
func TestEncryptedPostPipelineRejectionSaysNoContent(t *testing.T) {
	s := newTestSite(t)
	setSetting(t, s, "content_filter", "text/plain")
	const marker = "FILENAME-MARKER-c0de"
	m := &queue.Meta{
		List: "team@lists.test", Subaddress: queue.SubPost, Sender: "bob@subs.test", From: "bob@subs.test",
		Recipient: "team@lists.test", Encryption: "pgp-mime", Verdict: "none", Auth: "smtp",
	}
	msg := "From: bob@subs.test\nTo: team@lists.test\nSubject: ...\nMessage-ID: <att@subs.test>\nMIME-Version: 1.0\n" +
		"Content-Type: multipart/mixed; boundary=b\n\n--b\nContent-Type: application/pdf\n" +
		"Content-Disposition: attachment; filename=\"" + marker + ".pdf\"\nContent-Transfer-Encoding: base64\n\nJVBERi0=\n--b--\n"
	if _, err := s.Queue(queue.Pipeline).Enqueue(m, strings.NewReader(msg), 0); err != nil {
		t.Fatal(err)
	}
	s.drain(t)
	n := oneMessage(t, s, "bob@subs.test")
	if bytes.Contains(n, []byte(marker)) || !bytes.Contains(n, []byte("content-filter step refused it")) {
		t.Fatalf("rejection notice:\n%s", n)
	}
	if strings.Contains(s.logs.String(), marker) {
		t.Fatalf("the log names the attachment:\n%s", s.logs)
	}
	if len(s.mailbox(t, "ann@subs.test")) != 0 {
		t.Fatal("distributed")
	}
}

// TestMemberReplayAsPostHeld: a member who captured another member's
// signed and encrypted command mail resends its ciphertext as a post under
// their own From: the signature is not theirs, so the post is held for the
// moderators instead of being distributed (to them too, decrypted for
// their key).
func TestMemberReplayAsPostHeld(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, keys := keySite(t)
	const marker = "REPLAY-MARKER-77aa"
	dan := homes["dan@else.test"]
	keys.subs["dan@else.test"] = readKey(t, dan.ExportPublic("dan@else.test"))
	if err := s.Lists.Update(func(tx *lists.Tx) error {
		return tx.AddMember("team@lists.test", &lists.Member{Address: "dan@else.test"})
	}); err != nil {
		t.Fatal(err)
	}
	captured := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob@subs.test\nTo: team-request@lists.test\nSubject: ...\n",
		[]byte("Content-Type: text/plain\n\nx-list-name team@lists.test\nunsubscribe\n# "+marker+"\n"), true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "dan@else.test", replayAs(captured, "dan@else.test", "team@lists.test"))
	s.drain(t)
	noMarkerFor(t, s, dan, "dan@else.test", marker)
	if held := heldPosts(t, s); len(held) != 1 || !strings.Contains(held[0].Reason, "signed by someone other than its From") {
		t.Fatalf("held: %+v", held)
	}
	if box := s.mailbox(t, "cat@subs.test"); len(box) != 0 {
		t.Fatalf("distributed: cat got %d mails", len(box))
	}
}
