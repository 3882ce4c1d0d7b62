package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cloister/queue"
	"cloister/runners"
	"cloister/site"
)

func (a *app) runnerCmd() *cobra.Command {
	var once bool
	var slice string
	c := &cobra.Command{
		Use:   "runner NAME",
		Short: "Run one runner (" + runnerNames() + ")",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			r, err := runners.Lookup(args[0])
			if err != nil {
				return err
			}
			sl, err := queue.ParseSlice(slice)
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			s, err := a.openWaiting(ctx, once)
			if err != nil {
				return err
			}
			l, done, err := tracked(s, r, sl, newWatchdog(1), 0)
			if err != nil {
				return err
			}
			defer done()
			l.Once, l.Ready = once, notifyReady
			s.Log.Info("runner starting", "runner", r.Name(), "slice", slice, "once", once)
			err = l.Run(ctx)
			notifyStopping()
			return err
		},
	}
	c.Flags().BoolVar(&once, "once", false, "drain the queue and exit")
	c.Flags().StringVar(&slice, "slice", "", "process only slice i/n of the queue")
	return c
}

// runnerNames lists the runners, for help texts.
func runnerNames() string {
	var names []string
	for _, r := range runners.All {
		names = append(names, r.Name())
	}
	return strings.Join(names, ", ")
}

func (a *app) runnersCmd() *cobra.Command {
	var once bool
	c := &cobra.Command{
		Use:   "runners",
		Short: "Run every runner in one process (small sites, the demo)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			s, err := a.openWaiting(ctx, once)
			if err != nil {
				return err
			}
			if once {
				return runners.Drain(ctx, s)
			}
			if err := serveMetrics(ctx, s, s.Log); err != nil {
				return err
			}
			var wg sync.WaitGroup
			errs := make([]error, len(runners.All))
			wd := newWatchdog(len(runners.All))
			for i, r := range runners.All {
				l, done, err := tracked(s, r, queue.All, wd, i)
				if err != nil {
					stop()
					wg.Wait()
					return err
				}
				wg.Add(1)
				go func() {
					defer wg.Done()
					defer done()
					if err := l.Run(ctx); err != nil {
						errs[i] = fmt.Errorf("runner %s: %w", r.Name(), err)
						stop()
					}
				}()
			}
			// Held posts and tokens expire on the hour (systemd sites use the
			// timer that runs `cloister held expire`).
			wg.Add(1)
			go func() {
				defer wg.Done()
				t := time.NewTicker(time.Hour)
				defer t.Stop()
				var keysChecked time.Time
				for {
					if _, err := runners.ExpireHeld(s, time.Now()); err != nil {
						s.Log.Error("expire held posts", "err", err)
					}
					// Key and certificate expiry notices, daily (systemd
					// sites may use `cloister key check-expiry` on a timer).
					if time.Since(keysChecked) >= 24*time.Hour {
						keysChecked = time.Now()
						if _, err := runners.KeyExpiryNotices(s, keysChecked); err != nil {
							s.Log.Error("key expiry notices", "err", err)
						}
					}
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
				}
			}()
			notifyReady()
			wg.Wait()
			notifyStopping()
			return errors.Join(errs...)
		},
	}
	c.Flags().BoolVar(&once, "once", false, "drain every queue (repeatedly, until all are empty) and exit")
	return c
}

// openWaiting opens the site for a runner process. A temporary condition (a
// full disk, an I/O error, a database lock held too long elsewhere) is
// waited out with a warning, as the runner loop does, so that systemd's
// restart limit is not spent on it; with once it is an error.
func (a *app) openWaiting(ctx context.Context, once bool) (*site.Site, error) {
	for n := 1; ; n++ {
		s, err := a.open()
		if err == nil || once || !runners.Temporary(err) {
			return s, err
		}
		delay := runners.Backoff(n, time.Second, time.Minute)
		if n == 1 || n%10 == 0 {
			a.logger().Warn("waiting for a temporary condition to clear", "during", "open site", "err", err, "in", delay, "tries", n)
		}
		notifyReady() // alive: systemd must not time out the start
		select {
		case <-ctx.Done():
			return nil, err
		case <-time.After(delay):
		}
	}
}
