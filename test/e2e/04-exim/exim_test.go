// Package eximsuite is the end-to-end suite of a plaintext list with a real
// Exim 4 in front and behind:
//
//	exim -bm (sendmail) -> Exim router cloister_lists (lists file lookup)
//	  -> pipe transport cloister_pipe -> deliver -> queue/in
//	  -> incoming -> rules -> pipeline -> archive, outgoing -> SMTP to Exim
//	  -> appendfile -> each subscriber's Maildir
//
// It mirrors 01-postfix-plaintext: a member's post reaches every member
// (and no copy names another subscriber),
// -request mail gets the help reply, and an unknown list address is refused
// at RCPT time by Exim's recipient verification (the router finds no list).
package eximsuite

import (
	"bytes"
	"fmt"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloister/test/e2e/harness"
)

const domain = "lists.example.test"

func TestEximPlaintextList(t *testing.T) {
	harness.RequireRoot(t)
	harness.EximBinary(t)
	dir := harness.WorkDir(t)
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	port := harness.FreePort(t)

	state := filepath.Join(dir, "state")
	cfgPath := filepath.Join(state, "cloister.toml")
	cl := func(args ...string) string {
		return harness.Run(t, []string{"CLOISTER_CONFIG=" + cfgPath}, bins.Cloister, args...)
	}
	harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", domain, "--smtp", "127.0.0.1:"+strconv.Itoa(port))
	cl("list", "create", "team", "--owner", "carol@subs.test", "--description", "The team")
	cl("member", "add", "team", "dave@subs.test")
	cl("member", "add", "team", "erin@subs.test", "--name", "Erin")
	// Cloister keeps the lists file Exim reads current (mta_lists_file).
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "mta_lists_file = %q\n", filepath.Join(dir, "exim-lists"))
	f.Close()
	aliases := cl("aliases", "--mta", "exim", "--deliver", bins.Deliver)
	// deliver runs as the cloister user and writes into queue/in.
	harness.Run(t, nil, "chown", "-R", "cloister:", state)

	ex := harness.StartExim(t, dir, harness.EximConfig{
		ListDomain: domain,
		Aliases:    aliases,
		Port:       port,
		Mailboxes:  []string{"carol@subs.test", "dave@subs.test", "erin@subs.test", "frank@subs.test"},
	})

	harness.StartRunners(t, bins.Cloister, cfgPath, dir)
	waitMail := func(t *testing.T, addr string, n int) [][]byte { return harness.WaitMail(t, ex.Mailbox, addr, n) }

	t.Run("member post reaches every member", func(t *testing.T) {
		body := "Minutes of Tuesday.\n\n-- \nDave\n"
		ex.Sendmail(t, "dave@subs.test", []byte("From: Dave <dave@subs.test>\nTo: team@"+domain+"\nSubject: Minutes\nMessage-ID: <minutes-1@subs.test>\n\n"+body), "team@"+domain)
		for _, m := range []string{"carol@subs.test", "dave@subs.test", "erin@subs.test"} {
			got := waitMail(t, m, 1)[0]
			for _, want := range []string{"Subject: [team] Minutes", "List-Id: \"The team\" <team." + domain + ">", "List-Post: <mailto:team@" + domain + ">", "Return-path: <team-bounces"} {
				if !bytes.Contains(got, []byte(want)) {
					t.Errorf("%s's copy lacks %q:\n%s", m, want, got)
				}
			}
			if _, b, _ := bytes.Cut(got, []byte("\n\n")); string(b) != body {
				t.Errorf("%s: body changed:\n%q\nwant\n%q", m, b, body)
			}
			// Security invariant 8: a copy names no other subscriber (the
			// sender, Dave, is in From).
			for _, other := range []string{"carol@subs.test", "erin@subs.test"} {
				if other != m && bytes.Contains(got, []byte(other)) {
					t.Errorf("%s's copy names %s:\n%s", m, other, got)
				}
			}
		}
	})

	t.Run("request address answers with help", func(t *testing.T) {
		ex.Sendmail(t, "frank@subs.test", []byte("From: frank@subs.test\nTo: team-request@"+domain+"\nSubject: help\n\nhelp\n"), "team-request@"+domain)
		harness.Wait(t, 60*time.Second, "the help reply", func() bool {
			for _, m := range ex.Mailbox("frank@subs.test") {
				if bytes.Contains(m, []byte("To subscribe:")) {
					return true
				}
			}
			return false
		})
	})

	t.Run("unknown list is refused at RCPT", func(t *testing.T) {
		c, err := smtp.Dial(ex.SMTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Mail("frank@subs.test"); err != nil {
			t.Fatal(err)
		}
		err = c.Rcpt("nope@" + domain)
		if err == nil || !strings.HasPrefix(err.Error(), "550") {
			t.Fatalf("RCPT to an unknown list: %v, want a 550 refusal", err)
		}
		if err := c.Rcpt("team-request@" + domain); err != nil {
			t.Fatalf("RCPT to team-request: %v", err)
		}
	})

	t.Run("a list created while Exim runs is routed with no step", func(t *testing.T) {
		cl("list", "create", "news", "--owner", "carol@subs.test")
		cl("member", "add", "news", "frank@subs.test")
		ex.Sendmail(t, "carol@subs.test", []byte("From: carol@subs.test\nTo: news@"+domain+"\nSubject: First news\nMessage-ID: <news-1@subs.test>\n\nnews\n"), "news@"+domain)
		harness.FindMail(t, ex.Mailbox, "frank@subs.test", "Subject: [news] First news")
	})

	if st := cl("status"); !strings.Contains(st, "bad       0") {
		t.Errorf("entries in bad:\n%s", st)
	}
}
