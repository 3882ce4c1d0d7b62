// Package plaintext is the end-to-end suite of a plaintext list with a real
// Postfix in front and behind:
//
//	sendmail -> Postfix smtpd/pickup -> pipe(8) transport -> deliver -> queue/in
//	  -> incoming -> rules -> pipeline -> archive, outgoing -> SMTP to Postfix
//	  -> virtual(8) -> each subscriber's Maildir
//
// It also checks what Postfix does with Cloister's refusals: an unknown list
// is refused at RCPT time and bounced, an oversized post gets deliver's exit
// 65 and a bounce that says why, a non-member's post is held and released by
// an operator, -request mail gets the help reply, and only Postfix's own
// DSNs to a copy's signed bounce address count toward disabling a member.
package plaintext

import (
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloister/test/e2e/harness"
)

const domain = "lists.example.test"

func TestPostfixPlaintextList(t *testing.T) {
	harness.RequireRoot(t, "postfix", "postconf", "postmap", "sendmail")
	dir := harness.WorkDir(t)
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	port := harness.FreePort(t)

	state := filepath.Join(dir, "state")
	cl := func(args ...string) string {
		return harness.Run(t, []string{"CLOISTER_CONFIG=" + filepath.Join(state, "cloister.toml")}, bins.Cloister, args...)
	}
	harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", domain, "--smtp", "127.0.0.1:"+itoa(port))
	cfgPath := filepath.Join(state, "cloister.toml")
	cfg, _ := os.ReadFile(cfgPath)
	cfg = bytes.Replace(cfg, []byte("max_message_size_kb = 10240"), []byte("max_message_size_kb = 64"), 1)
	os.WriteFile(cfgPath, cfg, 0o644)
	cl("list", "create", "team", "--owner", "carol@subs.test", "--description", "The team")
	cl("member", "add", "team", "dave@subs.test")
	cl("member", "add", "team", "erin@subs.test", "--name", "Erin")
	aliases := cl("aliases", "--mta", "postfix", "--style", "transport", "--deliver", bins.Deliver)
	// deliver runs as the cloister user and writes into queue/in.
	harness.Run(t, nil, "chown", "-R", "cloister:", state)

	pf := harness.StartPostfix(t, dir, harness.Config{
		ListDomain: domain,
		Aliases:    aliases,
		Port:       port,
		Mailboxes:  []string{"carol@subs.test", "dave@subs.test", "erin@subs.test", "frank@subs.test"},
	})

	harness.StartRunners(t, bins.Cloister, cfgPath, dir)
	members := []string{"carol@subs.test", "dave@subs.test", "erin@subs.test"}
	waitMail := func(t *testing.T, addr string, n int) [][]byte { return harness.WaitMail(t, pf.Mailbox, addr, n) }

	findMail := func(t *testing.T, addr, want string) []byte { return harness.FindMail(t, pf.Mailbox, addr, want) }

	t.Run("member post reaches every member", func(t *testing.T) {
		body := "Agenda for Thursday:\n\n 1. budget\n 2. travel\n\n-- \nDave\n"
		pf.Sendmail(t, "dave@subs.test", []byte("From: Dave <dave@subs.test>\nTo: team@"+domain+"\nSubject: Agenda\nMessage-ID: <agenda-1@subs.test>\n\n"+body), "team@"+domain)
		for _, m := range members {
			got := waitMail(t, m, 1)[0]
			for _, want := range []string{"Subject: [team] Agenda", "List-Id: \"The team\" <team." + domain + ">", "List-Post: <mailto:team@" + domain + ">", "X-Loop: team@" + domain, "Return-Path: <team-bounces+", "-" + strings.Replace(m, "@", "=", 1) + "@" + domain + ">"} {
				if !bytes.Contains(got, []byte(want)) {
					t.Errorf("%s's copy lacks %q:\n%s", m, want, got)
				}
			}
			if _, b, _ := bytes.Cut(got, []byte("\n\n")); string(b) != body {
				t.Errorf("%s: body changed:\n%q\nwant\n%q", m, b, body)
			}
		}
	})

	t.Run("non-member post is rejected with a notice", func(t *testing.T) {
		pf.Sendmail(t, "frank@subs.test", []byte("From: frank@subs.test\nTo: team@"+domain+"\nSubject: Hello\n\nREJECT-MARKER\n"), "team@"+domain)
		harness.Wait(t, 60*time.Second, "the rejection notice", func() bool {
			for _, m := range pf.Mailbox("frank@subs.test") {
				if bytes.Contains(m, []byte("only members of the list may post")) {
					return true
				}
			}
			return false
		})
	})

	t.Run("moderated list holds a non-member post, then approved", func(t *testing.T) {
		cl("list", "set", "team", "send", "send.editorkey")
		cl("member", "set", "team", "carol@subs.test", "--role", "owner,moderator,member")
		pf.Sendmail(t, "frank@subs.test", []byte("From: frank@subs.test\nTo: team@"+domain+"\nSubject: Hello from outside\n\nHELD-MARKER\n"), "team@"+domain)
		var id string
		harness.Wait(t, 60*time.Second, "the post to be held", func() bool {
			for _, line := range strings.Split(cl("held", "ls", "team"), "\n") {
				if strings.Contains(line, "frank@subs.test") {
					id = strings.Fields(line)[0]
					return true
				}
			}
			return false
		})
		notice := findMail(t, "carol@subs.test", "held for moderation")
		// A plaintext post travels with the notice for the moderator to read.
		if !bytes.Contains(notice, []byte("held for moderation")) || !bytes.Contains(notice, []byte("HELD-MARKER")) {
			t.Fatalf("owner's notice:\n%s", notice)
		}
		if n := len(pf.Mailbox("erin@subs.test")); n != 1 {
			t.Fatalf("erin has %d messages before approval", n)
		}
		cl("held", "approve", id)
		got := findMail(t, "erin@subs.test", "HELD-MARKER")
		if !bytes.Contains(got, []byte("Subject: [team] Hello from outside")) {
			t.Fatalf("approved post:\n%s", got)
		}
	})

	t.Run("unknown list is bounced by postfix", func(t *testing.T) {
		pf.Sendmail(t, "frank@subs.test", []byte("From: frank@subs.test\nTo: nope@"+domain+"\nSubject: x\n\nx\n"), "nope@"+domain)
		harness.Wait(t, 60*time.Second, "the bounce for nope@", func() bool {
			for _, m := range pf.Mailbox("frank@subs.test") {
				if bytes.Contains(m, []byte("nope@"+domain)) && bytes.Contains(m, []byte("Undelivered Mail Returned to Sender")) {
					return true
				}
			}
			return false
		})
	})

	t.Run("oversized post is refused by deliver", func(t *testing.T) {
		big := "From: dave@subs.test\nTo: team@" + domain + "\nSubject: big\n\n" + strings.Repeat("0123456789abcdef\n", 100<<10/17)
		pf.Sendmail(t, "dave@subs.test", []byte(big), "team@"+domain)
		harness.Wait(t, 60*time.Second, "the bounce with deliver's reason", func() bool {
			for _, m := range pf.Mailbox("dave@subs.test") {
				if bytes.Contains(m, []byte("larger than 64 KB")) {
					return true
				}
			}
			return false
		})
	})

	t.Run("request address answers with help", func(t *testing.T) {
		pf.Sendmail(t, "frank@subs.test", []byte("From: frank@subs.test\nTo: team-request@"+domain+"\nSubject: help\n\nhelp\n"), "team-request@"+domain)
		harness.Wait(t, 60*time.Second, "the help reply", func() bool {
			for _, m := range pf.Mailbox("frank@subs.test") {
				if bytes.Contains(m, []byte("To subscribe:")) {
					return true
				}
			}
			return false
		})
	})

	t.Run("bounces count only from the null sender to the signed address", func(t *testing.T) {
		// Each member's copy of the first post carries its signed bounce address.
		verp := func(m string) string {
			got := harness.FindMail(t, pf.Mailbox, m, "Subject: [team] Agenda")
			line, _, _ := bytes.Cut(got, []byte("\n"))
			a, ok := bytes.CutPrefix(line, []byte("Return-Path: <"))
			if !ok {
				t.Fatalf("%s's copy starts with %q", m, line)
			}
			return string(bytes.TrimSuffix(a, []byte(">")))
		}
		cl("list", "set", "team", "bounce_threshold", "1")
		// Forged: a report from an ordinary sender to dave's signed address,
		// and a real Postfix DSN (null sender) to dave's unsigned VERP address.
		report := "From: MAILER-DAEMON@subs.test\nTo: " + verp("dave@subs.test") + "\nSubject: Undelivered Mail Returned to Sender\n" +
			"MIME-Version: 1.0\nContent-Type: multipart/report; report-type=delivery-status; boundary=b\n\n" +
			"--b\nContent-Type: text/plain\n\nfailed\n--b\nContent-Type: message/delivery-status\n\nReporting-MTA: dns; subs.test\n\n" +
			"Final-Recipient: rfc822; dave@subs.test\nAction: failed\nStatus: 5.1.1\n--b--\n"
		pf.Sendmail(t, "frank@subs.test", []byte(report), verp("dave@subs.test"))
		pf.Sendmail(t, "team-bounces+dave=subs.test@"+domain, []byte("From: frank@subs.test\nTo: nope@"+domain+"\nSubject: x\n\nx\n"), "nope@"+domain)
		harness.Wait(t, 60*time.Second, "the runners to drop both forged bounces", func() bool {
			b, _ := os.ReadFile(filepath.Join(dir, "runners.log"))
			return bytes.Count(b, []byte(`decision="bounce not scored"`)) >= 2
		})
		// Genuine: Postfix's own DSN (null sender) to erin's signed address.
		pf.Sendmail(t, verp("erin@subs.test"), []byte("From: erin@subs.test\nTo: nope@"+domain+"\nSubject: y\n\ny\n"), "nope@"+domain)
		findMail(t, "carol@subs.test", "Delivery to erin@subs.test disabled after bounces")
		for _, m := range pf.Mailbox("carol@subs.test") {
			if bytes.Contains(m, []byte("Delivery to dave@subs.test disabled")) {
				t.Fatalf("a forged bounce disabled dave:\n%s", m)
			}
		}
	})

	if st := cl("status"); !strings.Contains(st, "bad       0") {
		t.Errorf("entries in bad:\n%s", st)
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
