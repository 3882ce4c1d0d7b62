package main

import (
	"errors"
	"os"

	"github.com/spf13/cobra"

	"cloister/api/client"
	"cloister/service"
)

// errLocalOnly refuses, in remote mode, a command that works on the local
// site's files (runners, keys, backups): only the service's operations go
// through the API.
var errLocalOnly = errors.New("this command works on the local site only; it is not available with --api")

// remoteFlags adds the flags of the remote mode: the list, member, held,
// queue and audit commands then call the API daemon at --api instead of
// the local site.
func (a *app) remoteFlags(root *cobra.Command) {
	root.PersistentFlags().StringVar(&a.apiAddr, "api", "", "act on a remote site through its API daemon: unix:PATH or https://HOST:PORT (default $CLOISTER_API)")
	root.PersistentFlags().StringVar(&a.tokenFile, "token-file", "", "with --api: the file holding the API token (default $CLOISTER_TOKEN_FILE)")
	root.PersistentFlags().StringVar(&a.apiFingerprint, "api-fingerprint", "", "with --api https://...: the SHA-256 fingerprint of the daemon's certificate (what cloister api printed)")
}

// remoteAPI returns the API address of the remote mode, or "".
func (a *app) remoteAPI() string {
	if a.apiAddr != "" {
		return a.apiAddr
	}
	return os.Getenv("CLOISTER_API")
}

// remote returns the API client of the remote mode; the actor is the
// token's, decided by the daemon (the client sends none).
func (a *app) remote() (service.API, service.Actor, error) {
	file := a.tokenFile
	if file == "" {
		file = os.Getenv("CLOISTER_TOKEN_FILE")
	}
	if file == "" {
		return nil, service.Actor{}, errors.New("--api needs --token-file (or $CLOISTER_TOKEN_FILE)")
	}
	tok, err := client.ReadTokenFile(file)
	if err != nil {
		return nil, service.Actor{}, err
	}
	c, err := client.New(a.remoteAPI(), tok, client.Options{Fingerprint: a.apiFingerprint})
	if err != nil {
		return nil, service.Actor{}, err
	}
	return c, service.Actor{Method: service.MethodToken, Via: service.ViaAPI}, nil
}

// listName is the list a command names: completed with the local site's
// domain, or as given in remote mode (the daemon completes a bare name
// with its own domain).
func (a *app) listName(name string) string {
	if a.remoteAPI() != "" {
		return name
	}
	s, err := a.open()
	if err != nil {
		return name
	}
	return listAddress(s, name)
}
