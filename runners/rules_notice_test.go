package runners

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/mailmsg"
	"cloister/mailtext"
	"cloister/notices"
	"cloister/queue"
)

func writeTemplate(t *testing.T, path, src string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestRenderTemplateOverridesAndLanguages: a list's file beats the site's,
// which beats the built-in; within each, the language, its base language,
// then English.
func TestRenderTemplateOverridesAndLanguages(t *testing.T) {
	root := t.TempDir()
	listDir, siteDir := filepath.Join(root, "team@lists.test"), root
	dirs := []string{listDir, siteDir}
	data := map[string]any{"List": "team@lists.test", "Subject": "", "Reason": "R", "OwnerAddress": "o@x"}

	subj, body, err := notices.RenderTemplate(dirs, "pt-BR", "reject", data)
	if err != nil || subj != "Your post to team@lists.test was rejected" || !strings.Contains(body, "was not distributed: R.") {
		t.Fatalf("built-in: %q %q %v", subj, body, err)
	}
	writeTemplate(t, filepath.Join(siteDir, "pt", "reject.tmpl"), "Subject: Rejeitada ({{.List}})\n\nMotivo: {{.Reason}}\n")
	subj, body, err = notices.RenderTemplate(dirs, "pt-BR", "reject", data)
	if err != nil || subj != "Rejeitada (team@lists.test)" || body != "Motivo: R\n" {
		t.Fatalf("site base language: %q %q %v", subj, body, err)
	}
	subj, _, err = notices.RenderTemplate(dirs, "it", "reject", data)
	if err != nil || subj != "Your post to team@lists.test was rejected" {
		t.Fatalf("a language Cloister does not ship falls back to English: %q %v", subj, err)
	}
	writeTemplate(t, filepath.Join(listDir, "en", "reject.tmpl"), "Subject: Team says no\n\n{{.Reason}}\n")
	subj, _, err = notices.RenderTemplate(dirs, "pt-BR", "reject", data)
	if err != nil || subj != "Team says no" {
		t.Fatalf("list override: %q %v", subj, err)
	}

	for name, src := range map[string]string{
		"nosubject":  "Hello\n\nbody\n",
		"badsyntax":  "Subject: {{.List\n\nx\n",
		"missingkey": "Subject: {{.Nope}}\n\nx\n",
		"toolarge":   "Subject: x\n\n" + strings.Repeat("y", mailtext.MaxTemplateSize+1),
	} {
		writeTemplate(t, filepath.Join(siteDir, "en", name+".tmpl"), src)
		if _, _, err := notices.RenderTemplate(dirs, "en", name, data); err == nil {
			t.Errorf("template %s: no error", name)
		}
	}
	if _, _, err := notices.RenderTemplate(dirs, "en", "no-such-notice", data); err == nil {
		t.Errorf("missing template: no error")
	}
}

// TestSiteTemplateUsedByRunner: a site override in STATE/templates changes
// the rejection notice a post gets through the runners.
func TestSiteTemplateUsedByRunner(t *testing.T) {
	s := newTestSite(t)
	dirs := notices.TemplateDirs(s.Site, "team@lists.test")
	writeTemplate(t, filepath.Join(dirs[1], "en", "reject.tmpl"), "Subject: Not here\n\nSITE-OVERRIDE {{.Reason}}\n")
	s.deliver(t, queue.SubPost, "eve@else.test", "From: eve@else.test\nTo: team@lists.test\nSubject: x\n\nx\n")
	s.drain(t)
	n := oneMessage(t, s, "eve@else.test")
	if !bytes.Contains(n, []byte("Subject: Not here")) || !bytes.Contains(n, []byte("SITE-OVERRIDE only members")) {
		t.Fatalf("notice:\n%s", n)
	}
}

// TestNoticeAttachment: the attachment keeps the post's bytes and the
// boundary does not occur in it.
func TestNoticeAttachment(t *testing.T) {
	post := []byte("From: a@b.c\r\nSubject: s\r\n\r\nline\r\n")
	n := &notices.Notice{List: "team@lists.test", From: "team-owner@lists.test", To: "ann@subs.test", Subject: "Held", Body: "text", Attach: post, ReplyTo: "team-confirm+abc@lists.test"}
	raw := n.Bytes(time.Unix(0, 0))
	msg, err := mailmsg.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if msg.Get("Reply-To") != "team-confirm+abc@lists.test" || !strings.HasPrefix(msg.Get("Content-Type"), "multipart/mixed") {
		t.Fatalf("header:\n%s", raw)
	}
	if !bytes.Contains(raw, append([]byte("Content-Disposition: attachment\n\n"), post...)) {
		t.Fatalf("attachment changed:\n%q", raw)
	}
}
