package main

import (
	"context"
	"errors"
	"fmt"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"
	"github.com/spf13/cobra"

	"cloister/queue"
	"cloister/runners"
)

func (a *app) runnerCmd() *cobra.Command {
	var once bool
	var slice string
	c := &cobra.Command{
		Use:   "runner NAME",
		Short: "Run one runner (incoming, command, rules, pipeline, archive, outgoing, retry)",
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
			s, err := a.open()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			l := &runners.Loop{Site: s, Runner: r, Slice: sl, Once: once, Ready: func() {
				daemon.SdNotify(false, daemon.SdNotifyReady)
			}}
			s.Log.Info("runner starting", "runner", r.Name(), "slice", slice, "once", once)
			err = l.Run(ctx)
			daemon.SdNotify(false, daemon.SdNotifyStopping)
			return err
		},
	}
	c.Flags().BoolVar(&once, "once", false, "drain the queue and exit")
	c.Flags().StringVar(&slice, "slice", "", "process only slice i/n of the queue")
	return c
}

func (a *app) runnersCmd() *cobra.Command {
	var once bool
	c := &cobra.Command{
		Use:   "runners",
		Short: "Run every runner in one process (small sites, the demo)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := a.open()
			if err != nil {
				return err
			}
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			if once {
				return runners.Drain(ctx, s)
			}
			var wg sync.WaitGroup
			errs := make([]error, len(runners.All))
			for i, r := range runners.All {
				wg.Add(1)
				go func() {
					defer wg.Done()
					l := &runners.Loop{Site: s, Runner: r, Slice: queue.All}
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
				for {
					if _, err := runners.ExpireHeld(s, time.Now()); err != nil {
						s.Log.Error("expire held posts", "err", err)
					}
					select {
					case <-ctx.Done():
						return
					case <-t.C:
					}
				}
			}()
			daemon.SdNotify(false, daemon.SdNotifyReady)
			wg.Wait()
			return errors.Join(errs...)
		},
	}
	c.Flags().BoolVar(&once, "once", false, "drain every queue (repeatedly, until all are empty) and exit")
	return c
}
