package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cloister/web"
)

// webCmd runs the web interface daemon.
func (a *app) webCmd() *cobra.Command {
	var listen, baseURL string
	var files web.TLSFiles
	c := &cobra.Command{
		Use:   "web",
		Short: "Serve the web interface over HTTPS (subscribers, owners, moderators, archives)",
		Long: "Serve the web interface over HTTPS. Without --cert and --key it makes a self-signed certificate\n" +
			"at start (for --host names). With --client-ca, browsers may log in with a client certificate\n" +
			"issued by one of those CAs that is the S/MIME certificate bound to the address in the keyring.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			s, err := a.openWaiting(ctx, false)
			if err != nil {
				return err
			}
			tcfg, err := web.TLSConfig(files)
			if err != nil {
				return err
			}
			ln, err := net.Listen("tcp", listen)
			if err != nil {
				return fmt.Errorf("listen on %s: %w", listen, err)
			}
			if baseURL == "" {
				baseURL = defaultBaseURL(ln.Addr())
			}
			opts := web.Options{BaseURL: baseURL, ClientCAs: tcfg.ClientCAs}
			srv, err := web.New(s, opts)
			if err != nil {
				ln.Close()
				return err
			}
			hs := &http.Server{
				Handler:           srv,
				TLSConfig:         tcfg,
				ReadHeaderTimeout: 10 * time.Second,
				ReadTimeout:       time.Minute,
				WriteTimeout:      2 * time.Minute,
				IdleTimeout:       2 * time.Minute,
				MaxHeaderBytes:    64 << 10,
				ErrorLog:          nil,
			}
			s.Log.Info("web listening", "addr", ln.Addr().String(), "base_url", baseURL, "client_ca", files.ClientCA != "")
			notifyReady()
			errc := make(chan error, 1)
			go func() { errc <- hs.ServeTLS(ln, "", "") }()
			select {
			case err := <-errc:
				if !errors.Is(err, http.ErrServerClosed) {
					return fmt.Errorf("serve: %w", err)
				}
				return nil
			case <-ctx.Done():
				notifyStopping()
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				return hs.Shutdown(sctx)
			}
		},
	}
	c.Flags().StringVar(&listen, "listen", "127.0.0.1:8443", "address to listen on (host:port)")
	c.Flags().StringVar(&files.Cert, "cert", "", "TLS certificate chain (PEM); without it a self-signed one is made")
	c.Flags().StringVar(&files.Key, "key", "", "TLS private key (PEM)")
	c.Flags().StringVar(&files.ClientCA, "client-ca", "", "CA certificates (PEM) whose client certificates may log in (enables certificate login)")
	c.Flags().StringSliceVar(&files.Hosts, "host", nil, "host names of the self-signed certificate (default localhost)")
	c.Flags().StringVar(&baseURL, "base-url", "", "the address users reach the server at, for the links in the login mails (default: the listening address when it is a single host, else none: the mail gives the code only)")
	return c
}

// defaultBaseURL is the base of the links in mail when --base-url is not
// given: the listening address when it names one host (not a wildcard),
// else none.
func defaultBaseURL(a net.Addr) string {
	ta, ok := a.(*net.TCPAddr)
	if !ok || ta.IP == nil || ta.IP.IsUnspecified() {
		return ""
	}
	return "https://" + ta.String()
}
