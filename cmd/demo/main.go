// Command demo runs Cloister's main job on an embedded default: it makes a
// throw-away site with one list and three members, starts an in-process SMTP
// sink in place of the MTA (one Maildir per member), pipes a post through the
// built deliver binary, runs every runner until the queues are empty, and
// prints what each member received. `make demo` runs it.
package main

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"cloister/config"
	"cloister/internal/smtpsink"
	"cloister/lists"
	"cloister/runners"
	"cloister/site"
)

const (
	domain = "lists.example.test"
	list   = "team@" + domain
)

var members = []struct {
	addr, name string
	roles      []lists.Role
}{
	{"ann@members.test", "Ann", []lists.Role{lists.RoleOwner, lists.RoleModerator, lists.RoleMember}},
	{"bob@members.test", "Bob", []lists.Role{lists.RoleMember}},
	{"cat@members.test", "Cat", []lists.Role{lists.RoleMember}},
}

const post = `From: Bob <bob@members.test>
To: team@lists.example.test
Subject: Meeting notes
Message-ID: <notes-1@members.test>
Date: Wed, 25 Nov 2026 09:00:00 +0000
MIME-Version: 1.0
Content-Type: text/plain; charset=utf-8

Hello team,

the notes of Thursday's meeting:
 - budget approved
 - next meeting on the 3rd

Bob
`

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func step(format string, a ...any) { fmt.Printf("\n==> "+format+"\n", a...) }

func run() error {
	dir, err := os.MkdirTemp("", "cloister-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	step("building deliver")
	deliver := filepath.Join(dir, "deliver")
	if out, err := exec.Command("go", "build", "-o", deliver, "./cmd/deliver").CombinedOutput(); err != nil {
		return fmt.Errorf("build deliver: %v\n%s", err, out)
	}

	sink, err := smtpsink.Start(filepath.Join(dir, "mailboxes"))
	if err != nil {
		return err
	}
	defer sink.Close()
	step("an SMTP sink stands in for the MTA on %s", sink.Addr)

	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o750); err != nil {
		return err
	}
	cfgPath := filepath.Join(state, "cloister.toml")
	if err := os.WriteFile(cfgPath, []byte(config.Sample(state, domain, sink.Addr)), 0o640); err != nil {
		return err
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		return err
	}
	var logs bytes.Buffer
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		return err
	}
	step("site in %s: list %s with %d members", state, list, len(members))
	err = s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList(list, time.Now())
		if err != nil {
			return err
		}
		l.Description = "Demo team"
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for _, m := range members {
			if err := tx.AddMember(list, &lists.Member{Address: m.addr, Name: m.name, Roles: m.roles}); err != nil {
				return err
			}
			fmt.Printf("    %-18s %s\n", m.addr, rolesText(m.roles))
		}
		return nil
	})
	if err != nil {
		return err
	}

	step("Bob's post, piped into deliver as Postfix would")
	fmt.Print(indent(post))
	cmd := exec.Command(deliver, list)
	cmd.Env = append(os.Environ(), "CLOISTER_CONFIG="+cfgPath, "SENDER=bob@members.test")
	cmd.Stdin = strings.NewReader(post)
	cmd.Stderr = os.Stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("deliver: %w", err)
	}
	fmt.Println("    deliver exited 0: the post is in queue/in")

	step("running every runner until the queues are empty")
	if err := runners.Drain(context.Background(), s); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimSpace(logs.String()), "\n") {
		if strings.Contains(line, "msg=decision") || strings.Contains(line, "msg=routed") {
			fmt.Println("    " + compactLog(line))
		}
	}

	for _, m := range members {
		box, err := sink.Mailbox(m.addr)
		if err != nil {
			return err
		}
		step("%s received %d message(s)", m.addr, len(box))
		for _, msg := range box {
			fmt.Print(indent(string(msg)))
		}
		if len(box) != 1 {
			return fmt.Errorf("%s received %d messages, want 1", m.addr, len(box))
		}
	}
	fmt.Println()
	return nil
}

func rolesText(rs []lists.Role) string {
	var s []string
	for _, r := range rs {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func indent(s string) string {
	var b strings.Builder
	for _, l := range strings.SplitAfter(s, "\n") {
		if l != "" {
			b.WriteString("    | " + l)
		}
	}
	if !strings.HasSuffix(b.String(), "\n") {
		b.WriteString("\n")
	}
	return b.String()
}

// compactLog drops the time and entry id from a log line.
func compactLog(line string) string {
	var keep []string
	for _, f := range strings.Fields(line) {
		if strings.HasPrefix(f, "time=") || strings.HasPrefix(f, "entry=") || strings.HasPrefix(f, "level=") {
			continue
		}
		keep = append(keep, f)
	}
	return strings.Join(keep, " ")
}
