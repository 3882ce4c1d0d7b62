package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/spf13/cobra"

	"cloister/commands"
	"cloister/internal/site"
	"cloister/keyring"
	"cloister/lists"
	"cloister/rules"
	"cloister/runners"
	"cloister/service"
)

// services returns the service the CLI's list, member, held, queue, key
// and audit commands call, and the actor they act as: the local site's
// service layer, as the operator at the server's shell (a site admin). A
// remote implementation of service.API (a client of the API daemon) is
// swapped in here; no command writes the stores around it.
func (a *app) services(cmd *cobra.Command) (service.API, service.Actor, error) {
	if a.remoteAPI() != "" {
		return a.remote()
	}
	s, err := a.open()
	if err != nil {
		return nil, service.Actor{}, err
	}
	actor := service.Console()
	// The login name alone: mail that names the actor says "the operator"
	// in the list's language (service's whoSays), the audit log says
	// console.
	actor.Name = os.Getenv("USER")
	svc := runners.Service(s, service.WithKeyring(func() (k *keyring.Keyring, err error) {
		_, k, err = a.openKeyring()
		return k, err
	}))
	flows := cliKeyWorkflows{Workflows: commands.Workflows{Site: s}, site: s, cmd: cmd}
	if k := s.Keyring; k != nil {
		flows.Workflows.KeyStore = commands.KeyringStore{K: k}
	}
	service.WithKeyWorkflows(flows)(svc)
	return svc, actor, nil
}

// cliKeyWorkflows announces key changes as the CLI always did: queued for
// the outgoing runner, with a "told ADDRESS" line for each notice.
type cliKeyWorkflows struct {
	commands.Workflows
	site *site.Site
	cmd  *cobra.Command // the lines go to its output at the time
}

// Announce implements service.KeyWorkflows.
func (w cliKeyWorkflows) Announce(address string, event rules.Reason, by any) error {
	mails, err := commands.KeyAnnouncements(w.site, address, event, by, time.Now())
	if err != nil {
		return fmt.Errorf("announce the key change of %s: %w", address, err)
	}
	return queueNotices(w.site, w.cmd.OutOrStdout(), mails)
}

// cliError shows a service error as the operator should read it: its
// message, and for an error of the server's side the underlying error too
// (the operator at the shell may see internal paths).
func cliError(err error) error {
	var e *service.Error
	if !errors.As(err, &e) {
		return err
	}
	if e.Code == service.CodeUnavailable && e.Err != nil {
		return &shownError{msg: fmt.Sprintf("%s: %v", e.Message, e.Err), err: err}
	}
	return &shownError{msg: e.Message, err: err}
}

// shownError is an error shown with its own text that still unwraps to the
// service's error (and, through it, the store's).
type shownError struct {
	msg string
	err error
}

func (e *shownError) Error() string { return e.msg }
func (e *shownError) Unwrap() error { return e.err }

// DecideKeyRequest implements service.KeyWorkflows with a "told
// ADDRESS" line for each notice.
func (w cliKeyWorkflows) DecideKeyRequest(l *lists.List, a service.Actor, id string, approve bool) (string, error) {
	text, mails, err := commands.KeyRequestDecisionAs(w.site, w.KeyStore, l.Address, id, a, approve, time.Now())
	if err != nil {
		return "", err
	}
	fmt.Fprintln(w.cmd.OutOrStdout(), text)
	return text, queueNotices(w.site, w.cmd.OutOrStdout(), mails)
}
