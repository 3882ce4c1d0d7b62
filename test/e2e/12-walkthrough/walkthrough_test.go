// Package walkthrough is the operator's walk-through of docs/operators.md
// as one end-to-end test, with a real Postfix and each member's own gpg:
//
//	cloister init -> cloister aliases (socketmap) -> Postfix, cloister mta
//	  socketmap, cloister runners, all before any list exists
//	-> the documented walk-through commands (style-made encrypted list)
//	-> two people subscribe by mail through Postfix (subscribe, confirm)
//	-> a member posts signed and encrypted through Postfix; every member's
//	   copy is opened with their own key
//	-> cloister backup; the machine is lost; cloister init, the secrets put
//	   back, cloister restore; the flow again
package walkthrough

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"cloister/internal/gnupg"
	"cloister/internal/testdirs"
	"cloister/test/e2e/harness"
)

const domain = "lists.example.org"

// walkThrough returns the commands of docs/operators.md's encrypted-list walk-through.
func walkThrough(t *testing.T) []string {
	b, err := os.ReadFile(filepath.Join(testdirs.Root(t), "docs", "operators.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, rest, ok := strings.Cut(string(b), "<!-- walk-through: encrypted list")
	if !ok {
		t.Fatal("docs/operators.md has no encrypted-list walk-through")
	}
	_, rest, _ = strings.Cut(rest, "```\n")
	block, _, _ := strings.Cut(rest, "```")
	var cmds []string
	for _, l := range strings.Split(strings.TrimSpace(block), "\n") {
		cmds = append(cmds, strings.TrimSpace(l))
	}
	return cmds
}

// words splits a documented command line, keeping double-quoted words.
func words(line string) []string {
	var out []string
	for _, m := range regexp.MustCompile(`"[^"]*"|\S+`).FindAllString(line, -1) {
		out = append(out, strings.Trim(m, `"`))
	}
	return out
}

var confirmAddr = regexp.MustCompile(`team-confirm\+[A-Za-z0-9_-]+@` + regexp.QuoteMeta(domain))

func TestOperatorWalkThrough(t *testing.T) {
	harness.RequireRoot(t, "postfix", "postconf", "postmap", "sendmail", "gpg")
	dir := harness.WorkDir(t)
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	port, smPort := harness.FreePort(t), harness.FreePort(t)
	listen := "127.0.0.1:" + strconv.Itoa(smPort)
	state := filepath.Join(dir, "state")
	cfgPath := filepath.Join(state, "cloister.toml")
	env := []string{"CLOISTER_CONFIG=" + cfgPath}
	cl := func(args ...string) string { return harness.Run(t, env, bins.Cloister, args...) }
	initSite := func() {
		harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", domain, "--smtp", "127.0.0.1:"+strconv.Itoa(port))
		f, err := os.OpenFile(cfgPath, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(f, "socketmap_listen = %q\n", listen)
		f.Close()
	}
	initSite()
	aliases := cl("aliases", "--mta", "postfix", "--deliver", bins.Deliver)
	harness.Run(t, nil, "chown", "-R", "cloister:", state)
	stopMap := harness.StartSocketmap(t, bins.Cloister, cfgPath, dir, listen)
	people := []string{"alice@example.org", "bob@example.org", "carol@subs.test", "dave@subs.test"}
	pf := harness.StartPostfix(t, dir, harness.Config{ListDomain: domain, Aliases: aliases, Port: port, Mailboxes: people})
	stopRunners := harness.StartRunners(t, bins.Cloister, cfgPath, dir)

	homes := map[string]*gnupg.Home{}
	work := filepath.Join(dir, "operator")
	os.MkdirAll(work, 0o755)
	for _, p := range people {
		h := gnupg.New(t)
		h.GenKey(strings.Split(p, "@")[0]+" <"+p+">", "future-default")
		os.WriteFile(filepath.Join(work, strings.Split(p, "@")[0]+".asc"), h.ExportPublic(p), 0o644)
		homes[p] = h
	}

	// The documented walk-through, command by command, from the operator's directory.
	for _, line := range walkThrough(t) {
		w := words(line)
		if w[0] != "cl" {
			t.Fatalf("walk-through line %q does not start with cl", line)
		}
		out, redirect, _ := strings.Cut(strings.Join(w[1:], "\x00"), "\x00>\x00")
		args := strings.Split(out, "\x00")
		for i, a := range args {
			if strings.HasSuffix(a, ".asc") && !strings.Contains(a, "/") {
				args[i] = filepath.Join(work, a)
			}
		}
		got := cl(args...)
		if redirect != "" {
			os.WriteFile(filepath.Join(work, redirect), []byte(got), 0o644)
		}
	}
	listKey, err := os.ReadFile(filepath.Join(work, "team.asc"))
	if err != nil || !bytes.Contains(listKey, []byte("BEGIN PGP PUBLIC KEY BLOCK")) {
		t.Fatalf("the walk-through exported no list key: %v", err)
	}
	for _, h := range homes {
		h.Import(listKey)
	}
	list := "team@" + domain

	// Two people subscribe by mail through Postfix and confirm.
	for _, p := range []string{"carol@subs.test", "dave@subs.test"} {
		pf.Sendmail(t, p, []byte("From: "+p+"\nTo: team-request@"+domain+"\nSubject: subscribe\n\nsubscribe\n"), "team-request@"+domain)
		req := harness.FindMail(t, pf.Mailbox, p, "team-confirm+")
		addr := confirmAddr.Find(req)
		if addr == nil {
			t.Fatalf("%s: no confirmation address in:\n%s", p, req)
		}
		pf.Sendmail(t, p, []byte("From: "+p+"\nTo: "+string(addr)+"\nSubject: Re: confirm\n\nyes\n"), string(addr))
		harness.FindMail(t, pf.Mailbox, p, "Subject: Welcome to "+list)
		// The operator binds the key the new member sent to the owner.
		cl("key", "add", p, filepath.Join(work, strings.Split(p, "@")[0]+".asc"))
	}
	members := cl("member", "ls", list)
	for _, p := range people {
		if !strings.Contains(members, p) {
			t.Fatalf("%s is not a member:\n%s", p, members)
		}
	}

	// post sends a signed, encrypted post from one member through Postfix
	// and checks that every member opens their copy with their own key.
	post := func(t *testing.T, from, marker string) {
		t.Helper()
		msg := homes[from].PGPMIMEEncrypted("From: "+from+"\nTo: "+list+"\nSubject: encrypted\nMessage-ID: <"+strconv.Itoa(len(marker))+"."+from+">\n",
			[]byte("Content-Type: text/plain; charset=utf-8\n\n"+marker+"\n"), true, from, list)
		pf.Sendmail(t, from, msg, list)
		for _, p := range people {
			harness.Wait(t, 90*time.Second, p+" to open a copy carrying "+marker, func() bool {
				for _, m := range pf.Mailbox(p) {
					if bytes.Contains(m, []byte(marker)) {
						t.Fatalf("%s got %s in clear:\n%s", p, marker, m)
					}
					i, j := bytes.Index(m, []byte("-----BEGIN PGP MESSAGE-----")), bytes.Index(m, []byte("-----END PGP MESSAGE-----"))
					if i < 0 || j < i {
						continue
					}
					if pt, _, err := homes[p].Decrypt(m[i : j+25]); err == nil && bytes.Contains(pt, []byte(marker)) {
						return true
					}
				}
				return false
			})
		}
	}
	t.Run("a subscriber's encrypted post reaches every member", func(t *testing.T) {
		post(t, "carol@subs.test", "WALKTHROUGH-FIRST")
	})
	if t.Failed() {
		return
	}

	// Backup, then the machine is lost: a new site from init, the secrets
	// put back, restore.
	backup := filepath.Join(dir, "backups", "site")
	os.MkdirAll(filepath.Dir(backup), 0o700)
	cl("backup", backup)
	stopRunners()
	stopMap()
	lost := filepath.Join(dir, "lost-state")
	if err := os.Rename(state, lost); err != nil {
		t.Fatal(err)
	}
	initSite()
	for _, secret := range []string{"keyring-passphrase", "queue-key"} {
		b, err := os.ReadFile(filepath.Join(lost, "secrets", secret))
		if err != nil {
			t.Fatal(err)
		}
		os.WriteFile(filepath.Join(state, "secrets", secret), b, 0o600)
	}
	cl("restore", backup)
	harness.Run(t, nil, "chown", "-R", "cloister:", state)
	again := filepath.Join(dir, "after-restore")
	os.MkdirAll(again, 0o755)
	harness.StartSocketmap(t, bins.Cloister, cfgPath, again, listen)
	harness.StartRunners(t, bins.Cloister, cfgPath, again)

	t.Run("after the restore the flow goes on", func(t *testing.T) {
		if !strings.Contains(cl("member", "ls", list), "dave@subs.test") {
			t.Fatal("the restored site lost a member")
		}
		post(t, "dave@subs.test", "WALKTHROUGH-AFTER-RESTORE")
	})
}
