package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"cloister/keyring"
	"cloister/runners"
	"cloister/service"
)

// services returns the service the CLI's list, member, held, queue, key
// and audit commands call, and the actor they act as: the local site's
// service layer, as the operator at the server's shell (a site admin). A
// remote implementation of service.API (a client of the API daemon) is
// swapped in here; no command writes the stores around it.
func (a *app) services(cmd *cobra.Command) (service.API, service.Actor, error) {
	s, err := a.open()
	if err != nil {
		return nil, service.Actor{}, err
	}
	actor := service.Console()
	actor.Name = "operator " + os.Getenv("USER")
	return runners.Service(s, service.WithKeyring(func() (k *keyring.Keyring, err error) {
		_, k, err = a.openKeyring()
		return k, err
	})), actor, nil
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
