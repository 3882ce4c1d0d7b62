package web

import (
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
)

// TestBrowserSubscriberFlows: in chromium, a newcomer logs in by email
// token, subscribes to the list and confirms by mail, changes their
// delivery, and sets a first OpenPGP key with proof of possession (the
// challenge clear-signed by gpg).
func TestBrowserSubscriberFlows(t *testing.T) {
	testdirs.Slow(t, "needs chromium")
	ws := newWebSite(t, TLSFiles{})
	base := ws.startDaemon(t)
	c := newChrome(t)
	c.loginByMail(ws, base, "dan@subs.test")

	c.run("subscribe", chromedp.Navigate(base+"/lists/team@lists.test"),
		chromedp.SetValue(chromedp.CSS("#name"), "Dan"),
		chromedp.Click(chromedp.CSS(`form[action="/lists/team@lists.test/subscribe"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if f := c.textOf(".flash"); !strings.Contains(f, "confirmation request was sent to dan@subs.test") {
		t.Fatalf("after subscribing: %q", f)
	}
	ws.confirmByMail(t, "dan@subs.test")
	if !ws.isMember("team@lists.test", "dan@subs.test") {
		t.Fatal("not subscribed after confirming by mail")
	}

	c.run("change delivery", chromedp.Navigate(base+"/me"),
		chromedp.SetValue(chromedp.CSS(`select[name="delivery"]`), "digest"),
		chromedp.Click(chromedp.CSS(`form[action="/lists/team@lists.test/delivery"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if d := ws.delivery(t, "team@lists.test", "dan@subs.test"); d != "digest" {
		t.Fatalf("delivery %q after the change", d)
	}

	dan := gnupg.New(t)
	fpr := dan.GenKey("Dan <dan@subs.test>", "cv25519")
	c.run("offer a key", chromedp.Navigate(base+"/me/key"),
		chromedp.SetValue(chromedp.CSS("#key"), string(dan.ExportPublic(fpr))),
		chromedp.Click(chromedp.CSS(`form[action="/me/key/challenge"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#challenge")))
	challenge := c.textOf("#challenge")
	signed := clearsign(dan, fpr, challenge)
	c.run("prove it", chromedp.SetValue(chromedp.CSS("#signature"), signed),
		chromedp.Click(chromedp.CSS(`form[action="/me/key/verify"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if f := c.textOf(".flash"); f != "Your key is set." {
		t.Fatalf("after the proof: %q", f)
	}
	if got := ws.keyOf(t, "dan@subs.test"); got != fpr {
		t.Fatalf("bound key %q, want %s", got, fpr)
	}
}

// TestBrowserOwnerFlows: in chromium, the owner of a list whose admin and
// moderate scenarios accept an email-token login changes a setting,
// imports members, approves a held post, sees only the headers of a held
// post that arrived encrypted, and browses the plaintext archive.
func TestBrowserOwnerFlows(t *testing.T) {
	testdirs.Slow(t, "needs chromium")
	ws := newWebSite(t, TLSFiles{})
	ws.setSetting(t, "team@lists.test", "admin", "admin.owner_confirmed")
	ws.setSetting(t, "team@lists.test", "moderate", "moderate.owner_confirmed")
	ws.setSetting(t, "team@lists.test", "send", "send.editorkey")
	ws.setSetting(t, "team@lists.test", "archive", "public")
	ws.holdPost(t, "none", "From: eve@else.test\nTo: team@lists.test\nSubject: Clear question\nMessage-ID: <c1@else.test>\n\nCLEAR-BODY-1\n")
	base := ws.startDaemon(t)
	c := newChrome(t)
	c.loginByMail(ws, base, "ann@subs.test")

	c.run("change a setting", chromedp.Navigate(base+"/lists/team@lists.test/admin"),
		chromedp.SetValue(chromedp.CSS("#set-subject_prefix"), "[web]"),
		chromedp.Click(chromedp.CSS(`form[action="/lists/team@lists.test/admin/settings"] button`)),
		chromedp.WaitVisible(chromedp.CSS(".flash")))
	if f := c.textOf(".flash"); f != "Settings saved." {
		t.Fatalf("after saving: %q", f)
	}

	c.run("import members", chromedp.Navigate(base+"/lists/team@lists.test/members"),
		chromedp.SetValue(chromedp.CSS("#import-data"), "address,name\nfay@subs.test,Fay\ngus@subs.test,Gus\n"),
		chromedp.Click(chromedp.CSS(`form[action="/lists/team@lists.test/members/import"] button`)),
		chromedp.WaitVisible(chromedp.CSS(`p[role="status"]`)))
	if !ws.isMember("team@lists.test", "fay@subs.test") || !ws.isMember("team@lists.test", "gus@subs.test") {
		t.Fatalf("import: %s", c.textOf("main"))
	}

	c.run("open the held post", chromedp.Navigate(base+"/lists/team@lists.test/held"),
		chromedp.Click(chromedp.CSS(`a[href^="/lists/team@lists.test/held/"]`)),
		chromedp.WaitVisible(chromedp.CSS("pre.body")))
	if !strings.Contains(c.textOf("pre.body"), "CLEAR-BODY-1") {
		t.Fatalf("the text of a post in clear is not shown: %s", c.text())
	}
	c.run("approve it", chromedp.Click(chromedp.CSS(`form[action$="/approve"] button`)), chromedp.WaitVisible(chromedp.CSS(".flash")))
	ws.drain(t)
	got := false
	for _, m := range ws.mailbox(t, "bob@subs.test") {
		got = got || strings.Contains(string(m), "CLEAR-BODY-1")
	}
	if !got {
		t.Fatal("the approved post did not reach bob")
	}

	ws.holdPost(t, "pgp-mime", "From: eve@else.test\nTo: team@lists.test\nSubject: ENC-SUBJECT-3\nMessage-ID: <e1@else.test>\n\nENC-BODY-3\n")
	c.run("open the encrypted held post", chromedp.Navigate(base+"/lists/team@lists.test/held"),
		chromedp.Click(chromedp.CSS(`a[href^="/lists/team@lists.test/held/"]`)),
		chromedp.WaitVisible(chromedp.CSS("pre.headers")))
	page := c.text()
	if strings.Contains(page, "ENC-") || !strings.Contains(page, "arrived encrypted") || !strings.Contains(c.textOf("pre.headers"), "e1@else.test") {
		t.Fatalf("the moderator's page of an encrypted post: %s", page)
	}

	c.run("browse the archive", chromedp.Navigate(base+"/lists/team@lists.test/archive"), chromedp.WaitVisible(chromedp.CSS("section.month")))
	if a := c.textOf("main"); !regexp.MustCompile(`\[web\] Clear question|Clear question`).MatchString(a) {
		t.Fatalf("archive: %s", a)
	}
	c.run("read the archived post", chromedp.Click(chromedp.CSS(`section.month a`)), chromedp.WaitVisible(chromedp.CSS("pre.body")))
	if !strings.Contains(c.textOf("pre.body"), "CLEAR-BODY-1") {
		t.Fatalf("archived post: %s", c.text())
	}
}
