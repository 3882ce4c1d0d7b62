package main

import (
	"context"
	"log/slog"
	"time"

	"cloister/internal/metrics"
	"cloister/internal/site"
	"cloister/queue"
	"cloister/runners"
)

// tracked returns a loop for r whose Tick feeds the watchdog (as loop i) and
// the runner's heartbeat file (STATE/run/<runner>[.<i>-<n>].pid, read by
// `cloister status` and the metrics), and a function that removes the file.
func tracked(s *site.Site, r runners.Runner, sl queue.Slice, wd *watchdog, i int) (*runners.Loop, func(), error) {
	processed := metrics.NewProcessed()
	log := s.Log.With("runner", r.Name())
	hb, err := metrics.NewHeartbeat(s.Config.StateDir, r.Name(), sl, processed)
	if hb == nil {
		return nil, nil, err
	}
	warned := false
	if err != nil {
		// A runner started on a full disk works (and waits) all the same.
		log.Warn("heartbeat write failed", "err", err)
		warned = true
	}
	tick := func() {
		now := time.Now()
		wd.tick(i, now)
		if err := hb.Tick(now); err != nil && !warned {
			log.Warn("heartbeat write failed", "err", err)
			warned = true
		}
	}
	l := &runners.Loop{Site: s, Runner: ticking{r, tick}, Slice: sl, Processed: processed, Tick: tick, Waiting: hb.Waiting}
	return l, func() { hb.Close() }, nil
}

// ticking is a runner that also ticks before each entry: the loop ticks once
// per scan, and a scan of a long queue may take longer than the watchdog
// interval.
type ticking struct {
	runners.Runner
	tick func()
}

// Process ticks, then processes the entry.
func (t ticking) Process(ctx context.Context, job *runners.Job) error {
	t.tick()
	return t.Runner.Process(ctx, job)
}

// serveMetrics starts the metrics endpoint when metrics_listen is set; it
// stops with ctx.
func serveMetrics(ctx context.Context, s *site.Site, log *slog.Logger) error {
	if s.Config.MetricsListen == "" {
		return nil
	}
	ln, err := metrics.Listen(s.Config.MetricsListen)
	if err != nil {
		return err
	}
	go func() {
		if err := metrics.Serve(ctx, ln, s, log); err != nil {
			log.Error("metrics endpoint stopped", "err", err)
		}
	}()
	return nil
}
