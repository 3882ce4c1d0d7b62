package web

import (
	"bytes"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloister/internal/testca"
	"cloister/internal/testdirs"
	"cloister/lists"
	"cloister/queue"
)

func (ws *webSite) setSetting(t *testing.T, list, name, value string) {
	t.Helper()
	err := ws.Lists.Update(func(tx *lists.Tx) error {
		l, err := tx.List(list)
		if err != nil {
			return err
		}
		if err := l.Settings.Set(name, value); err != nil {
			return err
		}
		return tx.PutList(l)
	})
	if err != nil {
		t.Fatal(err)
	}
}

// holdPost hands a post to the rules runner as the incoming runner leaves
// it (for an encrypted post: decrypted, its metadata saying how it came)
// and runs the runners; the list's send scenario holds it.
func (ws *webSite) holdPost(t *testing.T, encryption, msg string) {
	t.Helper()
	m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubPost, Sender: "eve@else.test", From: "eve@else.test",
		Recipient: "team@lists.test", Encryption: encryption, Verdict: "none", Auth: "smtp", Received: time.Now().UTC()}
	if _, err := ws.Queue(queue.Rules).Enqueue(m, strings.NewReader(msg), 0); err != nil {
		t.Fatal(err)
	}
	ws.drain(t)
}

var heldLink = regexp.MustCompile(`href="(/lists/team@lists.test/held/[^"]+)"`)

// TestEncryptedHeldPostShowsHeadersOnly (security invariant 2): a moderator
// sees, of a held post that arrived encrypted, only its address and date
// header fields, on the queue and on the post's page, never its subject or
// text; "send it to me encrypted" mails it to the moderator's certificate,
// and only openssl with her key reads it.
func TestEncryptedHeldPostShowsHeadersOnly(t *testing.T) {
	testdirs.Slow(t, "runs openssl to read the moderator's copy")
	cs := newCertSite(t)
	if _, err := cs.keys.GenerateSMIME("team@lists.test"); err != nil {
		t.Fatal(err)
	}
	cs.setSetting(t, "team@lists.test", "send", "send.editorkey")
	cs.holdPost(t, "pgp-mime", "From: eve@else.test\nTo: team@lists.test\nSubject: SUBJECT-MARKER-7731\nMessage-ID: <enc1@else.test>\n"+
		"Content-Type: text/plain\n\nBODY-MARKER-4412 the plaintext of an encrypted post\n")
	b := cs.certLogin(t, cs.ann)
	st, queuePage := b.get("/lists/team@lists.test/held")
	m := heldLink.FindStringSubmatch(queuePage)
	if st != http.StatusOK || m == nil {
		t.Fatalf("held queue: %d\n%s", st, queuePage)
	}
	_, postPage := b.get(m[1])
	for _, page := range []string{queuePage, postPage} {
		for _, marker := range []string{"SUBJECT-MARKER", "BODY-MARKER", "plaintext of an encrypted"} {
			if strings.Contains(page, marker) {
				t.Fatalf("a moderator's page shows %q of an encrypted post:\n%s", marker, page)
			}
		}
	}
	if !strings.Contains(postPage, "eve@else.test") || !strings.Contains(postPage, "Send it to me encrypted") {
		t.Fatalf("post page:\n%s", postPage)
	}
	before := len(cs.mailbox(t, "ann@subs.test"))
	st, _, body := b.post(m[1]+"/sendme", url.Values{"csrf": {b.csrf()}})
	if st != http.StatusSeeOther {
		t.Fatalf("send it to me: %d\n%s", st, body)
	}
	cs.drain(t)
	box := cs.mailbox(t, "ann@subs.test")
	if len(box) != before+1 {
		t.Fatalf("%d new mails to the moderator", len(box)-before)
	}
	got := box[len(box)-1]
	if bytes.Contains(got, []byte("BODY-MARKER")) || bytes.Contains(got, []byte("SUBJECT-MARKER")) {
		t.Fatalf("the copy for the moderator is in clear:\n%s", got)
	}
	plain, err := testca.Decrypt(got, cs.ann)
	if err != nil || !bytes.Contains(plain, []byte("BODY-MARKER-4412")) {
		t.Fatalf("openssl cannot read the moderator's copy: %v\n%s", err, plain)
	}
}

// TestHeldPostApproveAndXSS: a held post in clear whose subject, sender
// name and body carry script payloads is shown as inert text, and the
// moderator's approval sends it to the members.
func TestHeldPostApproveAndXSS(t *testing.T) {
	cs := newCertSite(t)
	cs.setSetting(t, "team@lists.test", "send", "send.editorkey")
	cs.holdPost(t, "none", "From: \"<img src=x onerror=alert(2)>\" <eve@else.test>\nTo: team@lists.test\n"+
		"Subject: <script>alert(1)</script>\nMessage-ID: <x1@else.test>\nContent-Type: text/plain\n\n"+
		"<script>alert(3)</script> hello\n")
	b := cs.certLogin(t, cs.ann)
	_, queuePage := b.get("/lists/team@lists.test/held")
	m := heldLink.FindStringSubmatch(queuePage)
	if m == nil {
		t.Fatalf("held queue:\n%s", queuePage)
	}
	_, postPage := b.get(m[1])
	for _, page := range []string{queuePage, postPage} {
		for _, live := range []string{"<script>", "<img src=x"} {
			if strings.Contains(page, live) {
				t.Fatalf("a payload is live in the page (%q):\n%s", live, page)
			}
		}
	}
	for _, text := range []string{"Subject: &lt;script&gt;alert(1)&lt;/script&gt;", "&lt;script&gt;alert(3)&lt;/script&gt; hello"} {
		if !strings.Contains(postPage, text) {
			t.Fatalf("%q is not shown as text:\n%s", text, postPage)
		}
	}
	st, loc, body := b.post(m[1]+"/approve", url.Values{"csrf": {b.csrf()}})
	if st != http.StatusSeeOther || loc != "/lists/team@lists.test/held" {
		t.Fatalf("approve: %d %s\n%s", st, loc, body)
	}
	cs.drain(t)
	found := false
	for _, msg := range cs.mailbox(t, "bob@subs.test") {
		found = found || bytes.Contains(msg, []byte("alert(3)</script> hello"))
	}
	if !found {
		t.Fatal("the approved post did not reach bob")
	}
}
