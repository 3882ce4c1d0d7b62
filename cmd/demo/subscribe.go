package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"regexp"

	"cloister/internal/site"
	"cloister/internal/smtpsink"
	"cloister/lists"
	"cloister/runners"
)

// runSubscribe shows a subscription by mail with confirmation: Dan writes
// "subscribe" to team-request, gets a confirmation request (signed by the
// list) naming a single-use address, answers it, and is welcomed.
func runSubscribe(s *site.Site, deliver, cfgPath string, sink *smtpsink.Sink) error {
	const dan = "dan@newcomers.test"
	pipe := func(rcpt string, msg string) error {
		cmd := exec.Command(deliver, rcpt)
		cmd.Env = append(os.Environ(), "CLOISTER_CONFIG="+cfgPath, "SENDER="+dan)
		cmd.Stdin = bytes.NewReader([]byte(msg))
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("deliver to %s: %w", rcpt, err)
		}
		return runners.Drain(context.Background(), s)
	}
	step("Dan asks to join %s by mail: \"subscribe\" to team-request", list)
	if err := pipe("team-request@"+domain, "From: Dan <"+dan+">\nTo: team-request@"+domain+"\nSubject: subscribe\n\nsubscribe\n"); err != nil {
		return err
	}
	box, err := sink.Mailbox(dan)
	if err != nil || len(box) == 0 {
		return fmt.Errorf("dan received %d messages (%v), want the confirmation request", len(box), err)
	}
	var confirm []byte
	re := regexp.MustCompile(`team-confirm\+[a-z0-9]+@` + regexp.QuoteMeta(domain))
	step("Dan receives the reply to his command and the confirmation request, both signed by the list:")
	for _, b := range box {
		fmt.Print(indent(abbreviate(string(b))))
		fmt.Println()
		if c := re.Find(b); c != nil {
			confirm = c
		}
	}
	if confirm == nil {
		return fmt.Errorf("no confirmation request names a confirmation address")
	}
	step("Dan answers it: any message to %s", confirm)
	if err := pipe(string(confirm), "From: Dan <"+dan+">\nTo: "+string(confirm)+"\nSubject: Re: confirm\n\nyes\n"); err != nil {
		return err
	}
	var m *lists.Member
	if err := s.Lists.View(func(tx *lists.Tx) error { var err error; m, err = tx.Member(list, dan); return err }); err != nil {
		return fmt.Errorf("dan is not a member after confirming: %w", err)
	}
	box, _ = sink.Mailbox(dan)
	step("Dan is now a member (%s); the welcome he receives:", m.Delivery)
	fmt.Print(indent(abbreviate(string(box[len(box)-1]))))
	return nil
}
