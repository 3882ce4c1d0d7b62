package main

import (
	"errors"
	"os/signal"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cloister/internal/metrics"
)

func (a *app) metricsCmd() *cobra.Command {
	var once bool
	c := &cobra.Command{
		Use:   "metrics",
		Short: "Serve the site's Prometheus metrics on metrics_listen (or print them once with --once)",
		Long: `Serve the site's metrics in the Prometheus text format at /metrics on the
loopback address metrics_listen. Queue depths are read from the queue
directories, runner liveness and counts from the heartbeat files every runner
writes in STATE/run, so this one process exports a site whose runners run as
separate units. "cloister runners" serves the same endpoint itself.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			if once {
				snap, err := metrics.Collect(s, time.Now())
				if err != nil {
					return err
				}
				return snap.WriteText(cmd.OutOrStdout())
			}
			if s.Config.MetricsListen == "" {
				return errors.New("metrics_listen is not set in the configuration")
			}
			ln, err := metrics.Listen(s.Config.MetricsListen)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			notifyReady()
			defer notifyStopping()
			return metrics.Serve(ctx, ln, s, s.Log)
		},
	}
	c.Flags().BoolVar(&once, "once", false, "print the metrics to standard output and exit")
	return c
}
