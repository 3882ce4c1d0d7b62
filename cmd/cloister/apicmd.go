package main

import (
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cloister/api"
	"cloister/api/token"
	"cloister/keyring"
	"cloister/runners"
	"cloister/service"
)

// apiGrace is how long requests under way may run on after SIGTERM.
const apiGrace = 10 * time.Second

// apiCmd runs the REST API daemon.
func (a *app) apiCmd() *cobra.Command {
	var listen, certFile, keyFile, socket string
	var maxBodyKB int64
	var authFailures int
	c := &cobra.Command{
		Use:   "api",
		Short: "Serve the REST API (Unix socket by default, or loopback TCP with TLS)",
		Long: `Serve the REST API described at /openapi.json and in docs/api.md.

By default it listens on the Unix socket api_socket of cloister.toml (mode
0660). With --listen 127.0.0.1:PORT it listens on loopback TCP with TLS,
using --cert/--key, or a self-signed certificate it makes on first use and
keeps in the state directory (api-cert.pem, api-key.pem); it prints the
certificate's SHA-256 fingerprint for clients to pin. Every request needs a
token made by "cloister token create". SIGTERM stops it gracefully.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			// The keyring is opened when an operation on the list keys
			// asks for it (the passphrase is the site's, as for the runners).
			svc := runners.Service(s, service.WithKeyring(func() (*keyring.Keyring, error) { return keyring.OpenSite(s.Config) }))
			tokens := token.Open(s.Config.ListsDB())
			// The failed authentications are kept in cloister.db, so that a
			// restart does not reset the rate limit.
			limiter := &api.Limiter{Failures: authFailures, Window: api.DefaultAuthWindow, Store: tokens}
			if err := limiter.Load(); err != nil {
				return err
			}
			h := api.New(svc, tokens, api.Options{
				Log:     s.Log,
				MaxBody: maxBodyKB << 10,
				Limiter: limiter,
			})
			srv := api.Server(h, s.Log)
			var ln net.Listener
			if listen != "" {
				if err := api.CheckLoopback(listen); err != nil {
					return err
				}
				cert, fpr, err := api.LoadOrMakeCert(certFile, keyFile, s.Config.StateDir)
				if err != nil {
					return err
				}
				tcp, err := net.Listen("tcp", listen)
				if err != nil {
					return fmt.Errorf("listen on %s: %w", listen, err)
				}
				ln = tls.NewListener(tcp, &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12})
				fmt.Fprintf(cmd.OutOrStdout(), "listening on https://%s/ certificate sha256 %s\n", tcp.Addr(), fpr)
			} else {
				if certFile != "" || keyFile != "" {
					return errors.New("--cert and --key need --listen")
				}
				if socket == "" {
					socket = s.Config.APISocketPath()
				}
				ln, err = api.ListenUnix(socket)
				if err != nil {
					return err
				}
				fmt.Fprintf(cmd.OutOrStdout(), "listening on unix:%s\n", socket)
			}
			s.Log.Info("api listening", "addr", ln.Addr().String())
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			notifyReady()
			defer notifyStopping()
			err = api.Serve(ctx, srv, ln, apiGrace)
			s.Log.Info("api stopped")
			return err
		},
	}
	c.Flags().StringVar(&listen, "listen", "", "loopback host:port to serve with TLS instead of the Unix socket")
	c.Flags().StringVar(&certFile, "cert", "", "TLS certificate file (PEM) for --listen")
	c.Flags().StringVar(&keyFile, "key", "", "TLS private key file (PEM) for --listen")
	c.Flags().StringVar(&socket, "socket", "", "Unix socket path (default api_socket of cloister.toml)")
	c.Flags().Int64Var(&maxBodyKB, "max-body-kb", api.DefaultMaxBody>>10, "largest request body, in KiB")
	c.Flags().IntVar(&authFailures, "auth-failures", api.DefaultAuthFailures, "failed authentications a client may make per minute before it is refused")
	return c
}
