// Package socketmap is the end-to-end suite of Postfix routing lists it
// learns from Cloister while both run, with no postmap and no reload:
//
//	cloister list create -> lists.idx (atomic rewrite)
//	                            ^
//	smtpd RCPT / trivial-rewrite -> socketmap:inet:...:{domains,recipients,transport}
//	  -> cloister mta socketmap -> pipe(8) -> deliver -> runners -> Postfix -> Maildirs
//
// Lists are created and deleted after Postfix started, in the site's domain
// and in a second one (domains in cloister.toml).
package socketmap

import (
	"bytes"
	"fmt"
	"net/smtp"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"cloister/test/e2e/harness"
)

const (
	domain = "lists.example.test"
	second = "second.example.test"
)

func TestPostfixSocketmapFollowsListChanges(t *testing.T) {
	harness.RequireRoot(t, "postfix", "postconf", "postmap", "sendmail")
	dir := harness.WorkDir(t)
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	port, smPort := harness.FreePort(t), harness.FreePort(t)
	listen := "127.0.0.1:" + strconv.Itoa(smPort)

	state := filepath.Join(dir, "state")
	cfgPath := filepath.Join(state, "cloister.toml")
	cl := func(args ...string) string {
		return harness.Run(t, []string{"CLOISTER_CONFIG=" + cfgPath}, bins.Cloister, args...)
	}
	harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", domain, "--smtp", "127.0.0.1:"+strconv.Itoa(port))
	f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fmt.Fprintf(f, "domains = [%q]\nsocketmap_listen = %q\n", second, listen)
	f.Close()
	// The snippet is taken before any list exists: nothing in it names a list.
	aliases := cl("aliases", "--mta", "postfix", "--deliver", bins.Deliver)
	if strings.Contains(aliases, "postmap") || !strings.Contains(aliases, "socketmap:inet:"+listen+":recipients") {
		t.Fatalf("the default Postfix snippet is not the socketmap one:\n%s", aliases)
	}
	harness.Run(t, nil, "chown", "-R", "cloister:", state)
	harness.StartSocketmap(t, bins.Cloister, cfgPath, dir, listen)
	pf := harness.StartPostfix(t, dir, harness.Config{
		ListDomain: domain,
		Aliases:    aliases,
		Port:       port,
		Mailboxes:  []string{"carol@subs.test", "dave@subs.test", "frank@subs.test"},
	})
	harness.StartRunners(t, bins.Cloister, cfgPath, dir)

	// rcpt asks Postfix's smtpd whether it takes mail for addr.
	rcpt := func(t *testing.T, addr string) error {
		t.Helper()
		c, err := smtp.Dial(pf.SMTPAddr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		if err := c.Hello("client.test"); err != nil {
			t.Fatal(err)
		}
		if err := c.Mail("frank@subs.test"); err != nil {
			t.Fatal(err)
		}
		return c.Rcpt(addr)
	}
	refused := func(t *testing.T, addr string) {
		t.Helper()
		err := rcpt(t, addr)
		if err == nil || !strings.HasPrefix(err.Error(), "550") {
			t.Fatalf("RCPT TO:<%s> = %v, want a 550 refusal", addr, err)
		}
	}

	t.Run("no list yet: refused at RCPT", func(t *testing.T) {
		refused(t, "team@"+domain)
	})

	for _, list := range []string{"team@" + domain, "news@" + second} {
		t.Run("list created after postfix started: "+list, func(t *testing.T) {
			cl("list", "create", list, "--owner", "carol@subs.test")
			cl("member", "add", list, "dave@subs.test")
			for _, a := range []string{list, strings.Replace(list, "@", "-request@", 1), strings.Replace(list, "@", "+tag@", 1)} {
				if err := rcpt(t, a); err != nil {
					t.Fatalf("RCPT TO:<%s> right after list create: %v", a, err)
				}
			}
			subject := "Hello " + list
			pf.Sendmail(t, "dave@subs.test", []byte("From: Dave <dave@subs.test>\nTo: "+list+"\nSubject: "+subject+"\nMessage-ID: <"+strings.Replace(list, "@", ".", 1)+"@subs.test>\n\nhi\n"), list)
			for _, m := range []string{"carol@subs.test", "dave@subs.test"} {
				got := harness.FindMail(t, pf.Mailbox, m, subject)
				if !bytes.Contains(got, []byte("List-Post: <mailto:"+list+">")) {
					t.Errorf("%s's copy is not the list's:\n%s", m, got)
				}
			}
		})
	}

	t.Run("a list in a domain the site does not serve is refused at create", func(t *testing.T) {
		_, errOut, err := harness.RunErr([]string{"CLOISTER_CONFIG=" + cfgPath}, nil, bins.Cloister, "list", "create", "x@elsewhere.test")
		if err == nil || !strings.Contains(errOut, "elsewhere.test is not one of "+domain+", "+second) {
			t.Fatalf("list create in an unserved domain: %v\n%s", err, errOut)
		}
	})

	t.Run("list deleted: refused at RCPT again", func(t *testing.T) {
		cl("list", "delete", "team", "--yes")
		refused(t, "team@"+domain)
		refused(t, "team-request@"+domain)
		if err := rcpt(t, "news@"+second); err != nil {
			t.Fatalf("the other list went too: %v", err)
		}
	})
}
