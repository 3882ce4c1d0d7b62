package web

import (
	"bytes"
	"mime"
	"net/http"
	"net/mail"
	"net/url"
	"testing"
)

// TestArchiveMailInListLanguage: "mail it to me" on a German list's
// archive sends the note in German (notices' renderer: the list's
// template, one text part) with the archived post attached as
// post-1.eml.
func TestArchiveMailInListLanguage(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	ws.setSetting(t, "team@lists.test", "language", "de")
	ws.post(t, "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Agenda\nMessage-ID: <a1@subs.test>\n\nARCHIVED-BODY-1\n")
	b := ws.browser(t)
	b.loginIssued("cat@subs.test")
	b.get("/lists/team@lists.test/archive/1")
	before := len(ws.mailbox(t, "cat@subs.test"))
	st, _, body := b.post("/lists/team@lists.test/archive/1/mailme", url.Values{"csrf": {b.csrf()}})
	if st != http.StatusSeeOther {
		t.Fatalf("mail it to me: %d\n%s", st, body)
	}
	ws.drain(t)
	box := ws.mailbox(t, "cat@subs.test")
	if len(box) != before+1 {
		t.Fatalf("%d new mails", len(box)-before)
	}
	got := box[len(box)-1]
	msg, err := mail.ReadMessage(bytes.NewReader(got))
	if err != nil {
		t.Fatal(err)
	}
	subj, err := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject"))
	if err != nil || subj != "Archivierte Nachricht 1 von team@lists.test" {
		t.Errorf("subject %q (%v)", subj, err)
	}
	for _, want := range []string{"Sie haben im Web die Nachricht 1 aus dem Archiv von team@lists.test angefordert",
		"filename=post-1.eml", "ARCHIVED-BODY-1", "List-Id: <team.lists.test>"} {
		if !bytes.Contains(got, []byte(want)) {
			t.Errorf("archive mail lacks %q:\n%s", want, got)
		}
	}
}
