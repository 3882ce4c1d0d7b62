package runners

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/queue"
)

// Schleuder's list tools, each through the runners with gpg-made keys.

// subjectOf returns the Subject field of a message (its first line).
func subjectOf(msg string) string {
	m := regexp.MustCompile(`(?m)^Subject: (.*)$`).FindStringSubmatch(msg)
	if m == nil {
		return ""
	}
	return strings.TrimRight(m[1], "\r")
}

// TestOwnerToolsByMail: ann, the owner, sends a signed command mail with
// Schleuder's keywords: x-list-keys lists bob's fingerprint, x-get-key
// attaches bob's key (which gpg imports), x-get-version names Cloister,
// x-get-logfile attaches the list's log of the post distributed before
// (with no word of it), and x-sign-this returns the lines after it
// clear-signed by the list's key (gpg verifies it). Bob, a member who is no
// owner, is refused x-list-keys, x-get-key and x-get-logfile, and an
// unsigned x-sign-this is refused.
func TestOwnerToolsByMail(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes, keys := keySite(t)
	s.deliver(t, queue.SubPost, "cat@subs.test", "From: cat@subs.test\nTo: team@lists.test\nSubject: SECRETWORD\n\nSECRETWORD body\n")
	s.drain(t)
	mail := signedCommands(homes["ann@subs.test"], "ann@subs.test", "tools",
		"x-list-name team@lists.test\nx-list-keys\nx-get-key bob@subs.test\nx-get-version\nx-get-logfile\nx-sign-this\nThe list vouches for this.\nSecond line.\n")
	s.deliver(t, queue.SubRequest, "ann@subs.test", mail)
	s.drain(t)
	r := decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test"))
	bobFpr := fmt.Sprintf("%X", keys.subs["bob@subs.test"].PrimaryKey.Fingerprint)
	for _, want := range []string{
		"> x-list-keys\n  done: 3 on team@lists.test:", "OpenPGP " + bobFpr,
		"> x-get-key bob@subs.test\n  done: OpenPGP key " + bobFpr + " of bob@subs.test is attached.",
		"> x-get-version\n  done: Cloister ",
		"> x-get-logfile\n  done: the log of team@lists.test (",
		"> x-sign-this\n  done: the text, signed by the list's key:",
		"filename=bob_subs.test.asc", `filename="team@lists.test.log.txt"`,
	} {
		if !strings.Contains(r, want) {
			t.Errorf("reply lacks %q:\n%s", want, r)
		}
	}
	if strings.Contains(r, "> The list vouches") || strings.Contains(r, "> Second line.") {
		t.Errorf("a line of the signed text was read as a command:\n%s", r)
	}
	// The log: the distribution of cat's post, without its words.
	logText := attachmentText(t, r, "team@lists.test.log.txt")
	if !strings.Contains(logText, "decision=distribute") || strings.Contains(logText, "SECRETWORD") {
		t.Errorf("log attachment:\n%s", logText)
	}
	// The signed text verifies with gpg against the list's key.
	i, j := strings.Index(r, "-----BEGIN PGP SIGNED MESSAGE-----"), strings.Index(r, "-----END PGP SIGNATURE-----")
	if i < 0 || j < i {
		t.Fatalf("no clear-signed text in the reply:\n%s", r)
	}
	signed := []byte(regexp.MustCompile(`(?m)^    `).ReplaceAllString(r[i:j+len("-----END PGP SIGNATURE-----")], "") + "\n")
	out, status, err := homes["ann@subs.test"].Exec(signed, "--decrypt")
	if err != nil || !strings.Contains(status, "GOODSIG") || !strings.Contains(string(out), "The list vouches for this.\nSecond line.") {
		t.Fatalf("gpg does not verify the signed text: %v\n%s\n%s\n%s", err, status, out, signed)
	}
	// Bob's key, attached, imports into gpg.
	h := gnupg.New(t)
	h.Import([]byte(attachmentText(t, r, "bob_subs.test.asc")))
	if got := h.Fingerprint("bob@subs.test"); !strings.EqualFold(got, bobFpr) {
		t.Errorf("attached key has fingerprint %q, want %s", got, bobFpr)
	}

	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(homes["bob@subs.test"], "bob@subs.test", "tools",
		"x-list-name team@lists.test\nx-list-keys\nx-get-key ann@subs.test\nx-get-logfile\n"))
	s.deliver(t, queue.SubRequest, "cat@subs.test", "From: cat@subs.test\nTo: team-request@lists.test\nSubject: sign\n\nx-sign-this\nplease\n")
	s.drain(t)
	br := decryptReply(t, homes["bob@subs.test"], lastMail(t, s, "bob@subs.test"))
	for _, want := range []string{"> x-list-keys\n  refused: ", "> x-get-key ann@subs.test\n  refused: ", "> x-get-logfile\n  refused: only list owners"} {
		if !strings.Contains(br, want) {
			t.Errorf("bob's reply lacks %q:\n%s", want, br)
		}
	}
	if strings.Contains(br, "BEGIN PGP PUBLIC KEY") || strings.Contains(br, "decision=") {
		t.Errorf("bob got a key or the log:\n%s", br)
	}
	cr := lastMail(t, s, "cat@subs.test")
	if !strings.Contains(cr, "refused: the list signs text only for members whose command mail is signed") || strings.Contains(cr, "BEGIN PGP SIGNED MESSAGE") {
		t.Errorf("cat's unsigned sign:\n%s", cr)
	}
}

// attachmentText returns the decoded text of the attachment named name in
// a decrypted reply.
func attachmentText(t *testing.T, reply, name string) string {
	t.Helper()
	i := strings.Index(reply, `filename="`+name+`"`)
	if i < 0 {
		i = strings.Index(reply, "filename="+name+"\n")
	}
	if i < 0 {
		t.Fatalf("no attachment %s in:\n%s", name, reply)
	}
	rest := reply[i:]
	_, body, ok := strings.Cut(rest, "\n\n")
	if !ok {
		t.Fatalf("attachment %s has no body", name)
	}
	end := strings.Index(body, "\n--")
	if end >= 0 {
		body = body[:end]
	}
	if strings.Contains(rest[:strings.Index(rest, "\n\n")], "base64") || !strings.Contains(body, " ") {
		dec, err := decodeB64(body)
		if err == nil {
			return dec
		}
	}
	return body
}

// TestKeywordsAdminOnlyAndNotify: with keywords_admin_only "who" and
// keywords_admin_notify "version", bob's signed who is refused while ann's
// is carried out, and bob's version is answered and told to ann, the owner.
func TestKeywordsAdminOnlyAndNotify(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	s.setList(t, map[string]string{"keywords_admin_only": "who", "keywords_admin_notify": "version", "review": "review.private", "roster": "members"})
	s.deliver(t, queue.SubRequest, "bob@subs.test", signedCommands(homes["bob@subs.test"], "bob@subs.test", "c", "x-list-name team@lists.test\nwho\nversion\n"))
	s.drain(t)
	br := decryptReply(t, homes["bob@subs.test"], lastMail(t, s, "bob@subs.test"))
	if !strings.Contains(br, "> who\n  refused: on this list only the owners may use who (keywords_admin_only)") ||
		!strings.Contains(br, "> version\n  done: Cloister") || strings.Contains(br, "cat@subs.test") {
		t.Fatalf("bob's reply:\n%s", br)
	}
	var notice string
	for _, m := range s.mailbox(t, "ann@subs.test") {
		notice = subjectOf(string(m)) + "\n" + decryptReply(t, homes["ann@subs.test"], string(m))
	}
	if !strings.Contains(notice, "Command version used on team@lists.test") || !strings.Contains(notice, "bob@subs.test used the command") ||
		!strings.Contains(notice, "Result: done") {
		t.Fatalf("ann's notice:\n%s", notice)
	}
	s.deliver(t, queue.SubRequest, "ann@subs.test", signedCommands(homes["ann@subs.test"], "ann@subs.test", "c", "x-list-name team@lists.test\nwho\n"))
	s.drain(t)
	if ar := decryptReply(t, homes["ann@subs.test"], lastMail(t, s, "ann@subs.test")); !strings.Contains(ar, "> who\n  done: 3 on team@lists.test") {
		t.Fatalf("ann's who:\n%s", ar)
	}
}

// TestDeliverSelfsentOff: with deliver_selfsent off, bob's post reaches ann
// and cat and not bob; with it on (the default), bob too.
func TestDeliverSelfsentOff(t *testing.T) {
	for _, on := range []string{"yes", "no"} {
		s := newTestSite(t)
		s.setList(t, map[string]string{"deliver_selfsent": on})
		s.deliver(t, queue.SubPost, "bob@subs.test", post)
		s.drain(t)
		want := map[string]int{"ann@subs.test": 1, "cat@subs.test": 1, "bob@subs.test": 1}
		if on == "no" {
			want["bob@subs.test"] = 0
		}
		for a, n := range want {
			if got := len(s.mailbox(t, a)); got != n {
				t.Errorf("deliver_selfsent %s: %s received %d, want %d", on, a, got, n)
			}
		}
	}
}

// TestSubjectPrefixIn: an unsigned post gets subject_prefix_in after the
// list's prefix; a validly signed reply to it loses it.
func TestSubjectPrefixIn(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes, _ := keySite(t)
	s.setList(t, map[string]string{"subject_prefix_in": "[unsigned]"})
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	if got := subjectOf(string(s.mailbox(t, "cat@subs.test")[0])); got != "[team] [unsigned] Minutes" {
		t.Errorf("unsigned post: Subject %q", got)
	}
	signed := homes["bob@subs.test"].PGPMIMESigned("From: bob@subs.test\nTo: team@lists.test\nSubject: Re: [team] [unsigned] Minutes\nMessage-ID: <m2@subs.test>\n",
		[]byte("Content-Type: text/plain\n\nAgreed.\n"), "bob@subs.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(signed))
	s.drain(t)
	box := s.mailbox(t, "cat@subs.test")
	if len(box) != 2 {
		t.Fatalf("cat received %d; bad %q", len(box), s.badReasons(t))
	}
	if got := subjectOf(string(box[1])); got != "Re: [team] Minutes" {
		t.Errorf("signed reply: Subject %q", got)
	}
}

// TestSubjectPrefixOut: a copy the list resends to an outsider carries
// subject_prefix_out (inside the encryption); the list's own copies do not.
func TestSubjectPrefixOut(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes := encryptedSite(t)
	s.setList(t, map[string]string{"subject_prefix_out": "[via team]"})
	dan := gnupg.New(t)
	dan.GenKey("dan <dan@outside.test>", "cv25519")
	keys := s.mem
	keys.subs["dan@outside.test"] = readKey(t, dan.ExportPublic("dan@outside.test"))
	inner := "Content-Type: text/plain\r\n\r\nresend dan@outside.test\r\n\r\nPlease look.\r\n"
	p := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Incident\n",
		[]byte(inner), true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(p))
	s.drain(t)
	box := s.mailbox(t, "dan@outside.test")
	if len(box) != 1 {
		t.Fatalf("dan received %d; bad %q", len(box), s.badReasons(t))
	}
	pt, status, err := dan.Decrypt(armoredPart(t, box[0]))
	if err != nil && strings.Contains(status, "DECRYPTION_OKAY") {
		err = nil // dan does not hold the list's key to check its signature
	}
	if err != nil || subjectOf(string(pt)) != "[via team] Incident" {
		t.Fatalf("dan's copy (%v): Subject %q\n%s", err, subjectOf(string(pt)), pt)
	}
	for _, m := range s.mailbox(t, "ann@subs.test") {
		apt, _, err := homes["ann@subs.test"].Decrypt(armoredPart(t, m))
		if err == nil && bytes.Contains(apt, []byte("[via team]")) {
			t.Errorf("the list's copy carries subject_prefix_out:\n%s", apt)
		}
	}
}

// TestForwardAllIncomingToOwners: with forward_all_incoming_to_admins, Bob's
// encrypted post reaches ann, the owner, twice (her copy and the forward),
// both encrypted to her key, and a post the list rejects is forwarded too.
func TestForwardAllIncomingToOwners(t *testing.T) {
	testdirs.Slow(t, "drives the runners over OpenPGP-signed or encrypted mail")
	s, homes := encryptedSite(t)
	s.setList(t, map[string]string{"forward_all_incoming_to_admins": "yes"})
	inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nFORWARDMARK\r\n")
	p := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Plan\nMessage-ID: <fw@subs.test>\n",
		inner, true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(p))
	s.deliver(t, queue.SubPost, "eve@outside.test", "From: eve@outside.test\nTo: team@lists.test\nSubject: Spam\n\nOUTSIDERMARK\n")
	s.drain(t)
	box := s.mailbox(t, "ann@subs.test")
	marks := map[string]int{}
	for _, m := range box {
		if bytes.Contains(m, []byte("FORWARDMARK")) {
			t.Fatalf("plaintext of the encrypted post on the wire:\n%s", m)
		}
		if bytes.Contains(m, []byte("OUTSIDERMARK")) {
			marks["outsider"]++
			continue
		}
		pt, _, err := homes["ann@subs.test"].Decrypt(armoredPart(t, m))
		if err != nil {
			t.Fatalf("ann cannot open %s: %v", m, err)
		}
		if bytes.Contains(pt, []byte("OUTSIDERMARK")) {
			marks["outsider"]++
		}
		if bytes.Contains(pt, []byte("FORWARDMARK")) {
			marks["post"]++
		}
	}
	if marks["post"] != 2 || marks["outsider"] < 1 {
		t.Fatalf("ann's mail holds the post %d times and the outsider's %d times; want 2 and at least 1 (%d messages)", marks["post"], marks["outsider"], len(box))
	}
	for _, m := range s.mailbox(t, "cat@subs.test") {
		if bytes.Contains(m, []byte("OUTSIDERMARK")) {
			t.Fatalf("cat, no owner, got the outsider's post")
		}
	}
}

// TestBouncesDropOnHeaders: a report whose header matches
// bounces_drop_on_headers scores nothing; the same report without it scores.
func TestBouncesDropOnHeaders(t *testing.T) {
	s := newTestSite(t)
	s.setList(t, map[string]string{"bounces_drop_on_headers": "X-Spam-Flag:yes"})
	now := time.Now()
	s.bounceTo(t, s.verp(t, "bob@subs.test", now), "postfix-failed.eml", func(m string) string { return "X-Spam-Flag: YES\n" + m })
	s.drain(t)
	if b := s.member(t, "bob@subs.test").Bounces; b != nil {
		t.Fatalf("a dropped bounce scored: %+v", b)
	}
	if !strings.Contains(s.logs.String(), "bounce dropped") {
		t.Errorf("the drop is not logged")
	}
	s.bounceTo(t, s.verp(t, "bob@subs.test", now), "postfix-failed.eml", nil)
	s.drain(t)
	if b := s.member(t, "bob@subs.test").Bounces; b == nil || b.Score != 1 {
		t.Fatalf("the report without the header did not score: %+v", b)
	}
}

// TestListLogFile: the decisions about a list land in STATE/log/LIST.log.
func TestListLogFile(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	b, err := os.ReadFile(filepath.Join(s.Config.StateDir, "log", "team@lists.test.log"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"decision=distribute", "decision=delivered", "runner=outgoing"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("list log lacks %q:\n%s", want, b)
		}
	}
	if bytes.Contains(b, []byte("Minutes")) {
		t.Errorf("list log names the post's subject:\n%s", b)
	}
}

func decodeB64(s string) (string, error) {
	b, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	return string(b), err
}

// TestAttachListkey: x-attach-listkey at the top of Bob's encrypted post
// makes the copies carry the list's public key as an attachment (which gpg
// imports with the list's fingerprint) and not the keyword line; on a list
// without a key the line is removed and nothing is attached.
func TestAttachListkey(t *testing.T) {
	testdirs.Slow(t, "drives the runners with real gpg")
	s, homes := encryptedSite(t)
	inner := []byte("Content-Type: text/plain; charset=utf-8\r\n\r\nx-attach-listkey\r\nHere is our key.\r\n")
	p := homes["bob@subs.test"].PGPMIMEEncrypted("From: bob <bob@subs.test>\nTo: team@lists.test\nSubject: Key\nMessage-ID: <key@subs.test>\n",
		inner, true, "bob@subs.test", "team@lists.test")
	s.deliver(t, queue.SubPost, "bob@subs.test", string(p))
	s.drain(t)
	box := s.mailbox(t, "ann@subs.test")
	if len(box) != 1 {
		t.Fatalf("ann received %d; bad %q", len(box), s.badReasons(t))
	}
	pt := string(openCopy(t, homes["ann@subs.test"], box[0]))
	if strings.Contains(strings.ToLower(pt), "attach-listkey") || !strings.Contains(pt, "Here is our key.") ||
		!strings.Contains(pt, "Content-Type: application/pgp-keys") {
		t.Fatalf("decrypted copy:\n%s", pt)
	}
	i, j := strings.Index(pt, "-----BEGIN PGP PUBLIC KEY BLOCK-----"), strings.Index(pt, "-----END PGP PUBLIC KEY BLOCK-----")
	if i < 0 || j < i {
		t.Fatalf("no key block:\n%s", pt)
	}
	h := gnupg.New(t)
	h.Import([]byte(pt[i : j+len("-----END PGP PUBLIC KEY BLOCK-----")]))
	want := fmt.Sprintf("%X", s.mem.list[0].PrimaryKey.Fingerprint)
	if got := h.Fingerprint("team@lists.test"); !strings.EqualFold(got, want) {
		t.Errorf("attached key %q, want the list's %s", got, want)
	}

	plain := newTestSite(t)
	plain.deliver(t, queue.SubPost, "bob@subs.test", "From: bob@subs.test\nTo: team@lists.test\nSubject: k\n\nattach-listkey\nHello\n")
	plain.drain(t)
	got := string(plain.mailbox(t, "cat@subs.test")[0])
	if strings.Contains(got, "attach-listkey") || strings.Contains(got, "pgp-keys") || !strings.Contains(got, "Hello") {
		t.Fatalf("copy on a list without a key:\n%s", got)
	}
}
