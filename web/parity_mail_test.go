package web

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/testdirs"
	"cloister/queue"
)

// TestParityOwnerAddMailAndWeb runs the same owner operation (add a member)
// by mail and on the web for each method, under the default admin.signed:
// an S/MIME-signed command mail (openssl) and a web session logged in with
// the same certificate both add; an unsigned command mail and a web session
// logged in by email token are both refused, and add nobody.
func TestParityOwnerAddMailAndWeb(t *testing.T) {
	testdirs.Slow(t, "drives the runners over S/MIME-signed command mail made with openssl")
	cs := newCertSite(t)
	pool := x509.NewCertPool()
	caPEM, err := os.ReadFile(cs.ca.Cert)
	if err != nil {
		t.Fatal(err)
	}
	blk, _ := pem.Decode(caPEM)
	caCert, err := x509.ParseCertificate(blk.Bytes)
	if err != nil {
		t.Fatal(err)
	}
	pool.AddCert(caCert)
	cs.keys.SetTrust(pool, nil)
	if _, err := cs.keys.GenerateSMIME("team@lists.test"); err != nil {
		t.Fatal(err)
	}
	listCert, err := cs.keys.ExportSMIME("team@lists.test")
	if err != nil {
		t.Fatal(err)
	}
	listCertFile := filepath.Join(t.TempDir(), "list.pem")
	os.WriteFile(listCertFile, listCert, 0o600)
	cs.setSetting(t, "team@lists.test", "smime_post_encrypt", "yes")

	byMail := func(addr string, signed bool) {
		t.Helper()
		body := "Content-Type: text/plain\n\nx-list-name team@lists.test\nadd " + addr + "\n"
		var msg string
		if signed {
			msg = string(cs.ca.SignEncrypt("From: ann@subs.test\nTo: team-request@lists.test\nSubject: roster\n", []byte(body), cs.ann, listCertFile))
		} else {
			msg = "From: ann@subs.test\nTo: team-request@lists.test\nSubject: roster\n" + body
		}
		m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubRequest, Sender: "ann@subs.test", Recipient: "team-request@lists.test", Received: time.Now().UTC()}
		if _, err := cs.Queue(queue.In).Enqueue(m, strings.NewReader(msg), 0); err != nil {
			t.Fatal(err)
		}
		cs.drain(t)
	}
	byWeb := func(b *browser, addr string) {
		t.Helper()
		b.post("/lists/team@lists.test/members/add", url.Values{"csrf": {b.csrfOf("/me")}, "address": {addr}})
	}
	md5 := cs.browser(t)
	md5.loginIssued("ann@subs.test")
	smime := cs.certLogin(t, cs.ann)

	for _, tc := range []struct {
		method   string
		mail     func(addr string)
		web      func(addr string)
		expected bool
	}{
		{"smime", func(a string) { byMail(a, true) }, func(a string) { byWeb(smime, a) }, true},
		{"unsigned mail / md5 web", func(a string) { byMail(a, false) }, func(a string) { byWeb(md5, a) }, false},
	} {
		t.Run(tc.method, func(t *testing.T) {
			mailAddr, webAddr := "m-"+strings.Fields(tc.method)[0]+"@subs.test", "w-"+strings.Fields(tc.method)[0]+"@subs.test"
			tc.mail(mailAddr)
			tc.web(webAddr)
			gotMail, gotWeb := cs.isMember("team@lists.test", mailAddr), cs.isMember("team@lists.test", webAddr)
			if gotMail != tc.expected || gotWeb != gotMail {
				t.Fatalf("added by mail %v, on the web %v; want both %v", gotMail, gotWeb, tc.expected)
			}
		})
	}
	if st, _ := md5.get("/lists/team@lists.test/members"); st != http.StatusForbidden {
		t.Fatalf("the md5 session reads the roster: %d", st)
	}
}
