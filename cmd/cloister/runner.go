package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"cloister/internal/site"
	"cloister/keyexpiry"
	"cloister/moderation"
	"cloister/queue"
	"cloister/runners"
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
	var once, inProcess, withSocketmap bool
	c := &cobra.Command{
		Use:   "runners",
		Short: "Supervise every runner as a child process, in the foreground (without systemd)",
		Long: `Start every runner as a child process (cloister runner NAME), restart
one that dies (after 1 s, doubling up to 1 min while it keeps dying soon
after its start), run the hourly expiry of held posts and tokens and the
daily key-expiry notices, serve metrics when metrics_listen is set, and on
SIGTERM or SIGINT stop every child (each finishes or returns the entry in
hand; killed after 60 s) and exit. This is the process to run in a
container, under runit or from a shell. --in-process runs the runners as
goroutines of this one process instead (the demo, tests); --once drains
every queue and exits. --socketmap supervises cloister mta socketmap too
(Postfix's lookups, see docs/operators.md).`,
		Args: cobra.NoArgs,
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
			if !inProcess {
				names := runnerNamesList()
				if withSocketmap {
					names = append(names, socketmapChild)
				}
				return a.supervise(ctx, s, names)
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
			wg.Add(1)
			go func() {
				defer wg.Done()
				housekeeping(ctx, s)
			}()
			notifyReady()
			wg.Wait()
			notifyStopping()
			return errors.Join(errs...)
		},
	}
	c.Flags().BoolVar(&once, "once", false, "drain every queue (repeatedly, until all are empty) and exit")
	c.Flags().BoolVar(&inProcess, "in-process", false, "run the runners as goroutines of this process, not as supervised children")
	c.Flags().BoolVar(&withSocketmap, "socketmap", false, "supervise cloister mta socketmap (Postfix's lookups) too")
	return c
}

// supervise runs every runner as a supervised child process, and the
// housekeeping in this one, until ctx ends.
func (a *app) supervise(ctx context.Context, s *site.Site, names []string) error {
	self, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the cloister binary: %w", err)
	}
	sv := &supervisor{
		log: s.Log, min: restartMin, max: restartMax, stable: restartStable, grace: stopGrace,
		command: func(name string) *exec.Cmd { return a.childCommand(self, name) },
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		housekeeping(ctx, s)
	}()
	s.Log.Info("supervising runners", "children", strings.Join(names, ","))
	notifyReady()
	sv.run(ctx, names)
	notifyStopping()
	wg.Wait()
	return nil
}

// housekeeping expires held posts and tokens on the hour and sends key and
// certificate expiry notices daily (systemd sites use the timer that runs
// `cloister held expire` and `cloister key check-expiry`), until ctx ends.
func housekeeping(ctx context.Context, s *site.Site) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	var keysChecked time.Time
	for {
		if _, err := moderation.ExpireHeld(s, time.Now()); err != nil {
			s.Log.Error("expire held posts", "err", err)
		}
		if time.Since(keysChecked) >= 24*time.Hour {
			keysChecked = time.Now()
			if _, err := keyexpiry.KeyExpiryNotices(s, keysChecked); err != nil {
				s.Log.Error("key expiry notices", "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
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
