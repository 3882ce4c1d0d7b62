package main

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"cloister/internal/config"
	"cloister/mta"
)

func (a *app) mtaCmd() *cobra.Command {
	c := &cobra.Command{Use: "mta", Short: "Services the MTA asks about the site's lists"}
	var listen, transport string
	sm := &cobra.Command{
		Use:   "socketmap",
		Short: "Answer Postfix's socketmap lookups (domains, recipients, transport) from the current lists",
		Long: `Answer Postfix's socketmap_table(5) lookups until SIGTERM: the maps
domains (relay_domains), recipients (relay_recipient_maps: every list
address and subaddress) and transport (transport_maps: the pipe service
for each served domain). It reads lists.idx again whenever Cloister has
rewritten it, so a created or deleted list is routed at once, with no
postmap and no reload. ` + "`cloister aliases --mta postfix`" + ` prints the main.cf lines.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			cfg, err := config.Load(a.configPath)
			if err != nil {
				return err
			}
			if listen == "" {
				listen = cfg.SocketmapListen
			}
			ln, err := listenSocketmap(listen)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			log := a.logger()
			m := &mta.Socketmap{IndexPath: cfg.IndexPath(), Domains: cfg.ServedDomains(), Transport: transport, Log: log}
			if _, err := os.Stat(cfg.IndexPath()); err != nil {
				ln.Close()
				return fmt.Errorf("list index %s: %w (run cloister init, or any cloister command, to write it)", cfg.IndexPath(), err)
			}
			log.Info("socketmap listening", "listen", listen, "domains", cfg.ServedDomains())
			notifyReady()
			err = m.Serve(ctx, ln)
			notifyStopping()
			return err
		},
	}
	sm.Flags().StringVar(&listen, "listen", "", "host:port or socket path (default socketmap_listen of cloister.toml)")
	sm.Flags().StringVar(&transport, "transport", "cloister", "the master.cf service the transport map answers")
	c.AddCommand(sm)
	return c
}

// listenSocketmap listens on a TCP address or, for an absolute path, a Unix
// socket that the postfix user can connect to (a stale socket is removed).
func listenSocketmap(listen string) (net.Listener, error) {
	if !filepath.IsAbs(listen) {
		ln, err := net.Listen("tcp", listen)
		if err != nil {
			return nil, fmt.Errorf("socketmap listen %s: %w", listen, err)
		}
		return ln, nil
	}
	if fi, err := os.Lstat(listen); err == nil {
		if fi.Mode().Type() != fs.ModeSocket {
			return nil, fmt.Errorf("socketmap listen %s: exists and is not a socket", listen)
		}
		if err := os.Remove(listen); err != nil {
			return nil, fmt.Errorf("socketmap: remove stale socket: %w", err)
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("socketmap listen %s: %w", listen, err)
	}
	ln, err := net.Listen("unix", listen)
	if err != nil {
		return nil, fmt.Errorf("socketmap listen %s: %w", listen, err)
	}
	if err := os.Chmod(listen, 0o666); err != nil {
		ln.Close()
		return nil, fmt.Errorf("socketmap listen %s: %w", listen, err)
	}
	return ln, nil
}
