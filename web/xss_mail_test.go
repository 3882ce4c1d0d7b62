package web

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"cloister/internal/testdirs"
)

// xssPost carries script payloads in every place mail content reaches a
// page: an RFC 2047 encoded subject and From display name, RFC 2231 and
// plain filenames, Content-Type parameters, and an HTML part with SVG,
// CSS, javascript: and data: URLs, meta refresh, base, form and frame tags.
const xssPost = "From: =?utf-8?Q?=3Cimg_src=3Dx_onerror=3Dalert(1)=3E?= <bob@subs.test>\nTo: team@lists.test\n" +
	"Subject: =?utf-8?B?PHNjcmlwdD5hbGVydCgyKTwvc2NyaXB0Pg==?=\nMessage-ID: <x1@subs.test>\n" +
	"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"b1\"\n\n" +
	"--b1\nContent-Type: text/html; charset=utf-8\n\n" +
	"<svg onload=\"alert(3)\"><script>alert(4)</script></svg><style>body{background:url(https://tracker.example/a)}</style>" +
	"<meta http-equiv=\"refresh\" content=\"0;url=https://evil.example/\"><base href=\"https://evil.example/\">" +
	"<a href=\"JaVaScRiPt:alert(5)\">a</a><a href=\"data:text/html,&lt;script&gt;alert(6)&lt;/script&gt;\">b</a>" +
	"<a href=\"  javascript:alert(7)\">c</a><form action=\"https://evil.example/\"><input name=x></form>" +
	"<iframe src=\"https://evil.example/\"></iframe><object data=\"https://evil.example/x\"></object>" +
	"<p style=\"background:url(https://tracker.example/b)\">kept text</p>\n" +
	"--b1\nContent-Type: application/octet-stream; name=\"\\\"><script>alert(8)</script>\"\n\nx\n" +
	"--b1\nContent-Type: text/plain\nContent-Disposition: attachment; filename*=utf-8''%3Cscript%3Ealert(9)%3C%2Fscript%3E.txt\n\ny\n" +
	"--b1\nContent-Type: text/plain; charset=\"<script>alert(10)</script>\"\n\n<script>alert(11)</script>\n" +
	"--b1--\n"

// TestAttackStoredXSSInMail: against the daemon run as a process, a post
// whose subject, sender name, part names, parameters and HTML carry
// script payloads is archived, and the archive's index, thread view,
// search and message pages carry none of them live: no script, event
// attribute, remote URL, refresh, base, form or frame.
func TestAttackStoredXSSInMail(t *testing.T) {
	testdirs.Slow(t, "runs cloister web as a process (built from cmd/cloister)")
	ws := newWebSite(t, TLSFiles{})
	ws.post(t, xssPost)
	base := ws.startDaemon(t)
	b := ws.browser(t)
	b.base = base
	b.login("cat@subs.test")
	st, index := b.get("/lists/team@lists.test/archive")
	link := regexp.MustCompile(`href="(/lists/team@lists.test/archive/\d+)"`).FindStringSubmatch(index)
	if st != http.StatusOK || link == nil {
		t.Fatalf("archive: %d, no message link\n%s", st, index)
	}
	_, msg := b.get(link[1])
	if !strings.Contains(msg, "kept text") {
		t.Fatalf("the HTML part's text is lost:\n%s", msg)
	}
	pages := map[string]string{"index": index, "message": msg}
	_, pages["thread"] = b.get("/lists/team@lists.test/archive?view=thread")
	_, pages["search"] = b.get("/lists/team@lists.test/archive?q=script")
	_, pages["search for the name"] = b.get("/lists/team@lists.test/archive?q=%3Cimg")
	live := regexp.MustCompile(`(?i)<script|<svg|<style|<meta http-equiv|<base |<form action="https://evil|<iframe|<object|<img|\son[a-z]+=|javascript:|data:text|tracker\.example|evil\.example`)
	for name, page := range pages {
		if m := live.FindString(page); m != "" {
			t.Errorf("%s page carries %q live:\n%s", name, m, page)
		}
	}
	if !strings.Contains(pages["search"], "1 message(s)") {
		t.Errorf("search for the decoded subject finds nothing:\n%s", pages["search"])
	}
}
