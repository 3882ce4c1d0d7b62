package web

import (
	"bytes"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/keyring"
	"cloister/queue"
)

// post delivers a post from bob to the list as cmd/deliver queues it and
// runs the runners (the archive runner files it).
func (ws *webSite) post(t *testing.T, msg string) {
	t.Helper()
	m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubPost, Sender: "bob@subs.test", Recipient: "team@lists.test", Received: time.Now().UTC()}
	if _, err := ws.Queue(queue.In).Enqueue(m, strings.NewReader(msg), 0); err != nil {
		t.Fatal(err)
	}
	ws.drain(t)
}

const htmlPost = "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Mixed <b>news</b>\nMessage-ID: <m3@subs.test>\n" +
	"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n" +
	"--b1\nContent-Type: text/html; charset=utf-8\n\n" +
	"<p onclick=\"alert(1)\">Hello <strong>all</strong></p><script>alert(2)</script><img src=\"https://tracker.example/x.png\"><a href=\"javascript:alert(3)\">js</a><a href=\"https://example.org/\">site</a>\n" +
	"--b1\nContent-Type: text/html; name=\"evil.html\"\nContent-Disposition: attachment; filename=\"evil.html\"\n\n" +
	"<script>alert(4)</script>\n" +
	"--b1--\n"

// TestArchiveBrowsePlaintext: a member (email token login) browses the
// archive of a plaintext list by date and by thread, and searches it;
// a message's HTML is sanitised (no script, no event attribute, no remote
// image, no javascript: link), its attachment is only a download of a
// neutral type; a visitor is sent to log in (archive private).
func TestArchiveBrowsePlaintext(t *testing.T) {
	ws := newWebSite(t, TLSFiles{})
	ws.post(t, "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Plans\nMessage-ID: <m1@subs.test>\n\nLet us plan.\n")
	ws.post(t, "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: Re: Plans\nMessage-ID: <m2@subs.test>\nIn-Reply-To: <m1@subs.test>\nReferences: <m1@subs.test>\n\nAgreed.\n")
	ws.post(t, htmlPost)

	visitor := ws.browser(t)
	if st, _ := visitor.get("/lists/team@lists.test/archive"); st != http.StatusUnauthorized {
		t.Fatalf("a visitor reads the private archive: %d", st)
	}
	b := ws.browser(t)
	b.login("cat@subs.test")
	st, byDate := b.get("/lists/team@lists.test/archive")
	if st != http.StatusOK || !strings.Contains(byDate, "3 message(s)") || !strings.Contains(byDate, time.Now().UTC().Format("2006-01")) {
		t.Fatalf("archive by date: %d\n%s", st, byDate)
	}
	if strings.Contains(byDate, "<b>news</b>") || !strings.Contains(byDate, "Mixed &lt;b&gt;news&lt;/b&gt;") {
		t.Fatalf("the subject is not shown as text:\n%s", byDate)
	}
	_, byThread := b.get("/lists/team@lists.test/archive?view=thread")
	if n := strings.Count(byThread, `<section class="thread">`); n != 2 {
		t.Fatalf("%d threads, want 2 (Plans and its reply, and Mixed news):\n%s", n, byThread)
	}
	start := strings.Index(byThread, "<h2>[team] Plans</h2>") // the pipeline adds the subject prefix
	if start < 0 {
		t.Fatalf("no Plans thread:\n%s", byThread)
	}
	plans := byThread[start:]
	plans = plans[:strings.Index(plans, "</section>")]
	if !strings.Contains(plans, "Re: [team] Plans") {
		t.Fatalf("the reply is not in its thread:\n%s", byThread)
	}
	_, found := b.get("/lists/team@lists.test/archive?q=plans")
	if !strings.Contains(found, "2 message(s)") {
		t.Fatalf("search for plans:\n%s", found)
	}
	link := regexp.MustCompile(`href="(/lists/team@lists.test/archive/\d+)">\[team\] Mixed`).FindStringSubmatch(byDate)
	if link == nil {
		t.Fatalf("no link to the HTML post:\n%s", byDate)
	}
	_, page := b.get(link[1])
	if !strings.Contains(page, "<strong>all</strong>") {
		t.Fatalf("the sanitised HTML lost its text:\n%s", page)
	}
	for _, live := range []string{"<script", "onclick", "<img", "tracker.example", "javascript:"} {
		if strings.Contains(page, live) {
			t.Fatalf("the message page carries %q:\n%s", live, page)
		}
	}
	att := regexp.MustCompile(`href="(/lists/team@lists.test/archive/\d+/part/\d+)" download>evil.html`).FindStringSubmatch(page)
	if att == nil {
		t.Fatalf("no download link for the attachment:\n%s", page)
	}
	resp, err := b.c.Get(ws.ts.URL + att[1])
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.Header.Get("Content-Type") != "application/octet-stream" || !strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") ||
		resp.Header.Get("X-Content-Type-Options") != "nosniff" || !bytes.Contains(body, []byte("alert(4)")) {
		t.Fatalf("attachment download: %v\n%s", resp.Header, body)
	}
}

// TestEncryptedArchiveNeverRendered (security invariant 2): the archive of
// a list that carries encrypted posts is kept encrypted; the web shows of
// it only numbers and dates, never a subject or text, and "mail it to me"
// sends the message only encrypted to the member's key (gpg reads it).
func TestEncryptedArchiveNeverRendered(t *testing.T) {
	testdirs.Slow(t, "runs gpg to read the archive")
	ws := newWebSite(t, TLSFiles{})
	if _, err := ws.keys.GenerateOpenPGP("team@lists.test", "Team", keyring.AlgoCurve25519); err != nil {
		t.Fatal(err)
	}
	ws.setSetting(t, "team@lists.test", "pgp_distrib_encrypt", "yes")
	cat := gnupg.New(t)
	fpr := cat.GenKey("Cat <cat@subs.test>", "cv25519")
	if _, err := ws.keys.AddOpenPGP("cat@subs.test", cat.ExportPublic(fpr), true); err != nil {
		t.Fatal(err)
	}
	ws.post(t, "From: Bob <bob@subs.test>\nTo: team@lists.test\nSubject: SECRET-SUBJECT-5521\nMessage-ID: <s1@subs.test>\n\nSECRET-BODY-9902\n")
	b := ws.browser(t)
	b.loginIssued("cat@subs.test")
	st, idx := b.get("/lists/team@lists.test/archive")
	_, msg := b.get("/lists/team@lists.test/archive/1")
	for _, page := range []string{idx, msg} {
		if strings.Contains(page, "SECRET-") {
			t.Fatalf("the web shows the encrypted archive's content:\n%s", page)
		}
	}
	if st != http.StatusOK || !strings.Contains(idx, "Message 1") || !strings.Contains(msg, "is not shown in a browser") {
		t.Fatalf("index %d:\n%s\nmessage:\n%s", st, idx, msg)
	}
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
	if bytes.Contains(got, []byte("SECRET-")) {
		t.Fatalf("the archived message was mailed in clear:\n%s", got)
	}
	i, j := bytes.Index(got, []byte("-----BEGIN PGP MESSAGE-----")), bytes.Index(got, []byte("-----END PGP MESSAGE-----"))
	if i < 0 || j < i {
		t.Fatalf("not an OpenPGP message:\n%s", got)
	}
	// The copy is signed by the list key: cat's gpg knows it from the
	// list page's download.
	resp, err := b.c.Get(ws.ts.URL + "/lists/team@lists.test/key?kind=openpgp")
	if err != nil {
		t.Fatal(err)
	}
	listKey, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cat.Import(listKey)
	plain, status, err := cat.Decrypt(got[i : j+len("-----END PGP MESSAGE-----")])
	if err != nil || !bytes.Contains(plain, []byte("SECRET-BODY-9902")) {
		t.Fatalf("gpg: %v %s\n%s", err, status, plain)
	}
}
