package runners

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/site"
	"cloister/queue"
)

// TestMain runs the test binary as a runner process when a kill test asks
// for one (see killChild); otherwise it runs the tests.
func TestMain(m *testing.M) {
	if spec := os.Getenv("RUNNERS_DECIDE_CHILD"); spec != "" {
		if err := decideChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	if spec := os.Getenv("RUNNERS_KILL_CHILD"); spec != "" {
		if err := killChild(spec); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// killChild opens the site described by spec (state dir, SMTP address, queue
// key file, and optionally point:n, separated by newlines) and drains every
// queue as `cloister runners --once` does, but downstream runners first (as
// separate runner processes may restart in any order, so that a claim
// redone upstream meets a copy already consumed downstream), SIGKILLing
// itself the nth time it reaches the queue's fault point.
func killChild(spec string) error {
	f := strings.Split(spec, "\n")
	if len(f) < 4 {
		return fmt.Errorf("bad kill child spec %q", spec)
	}
	cfg, err := config.Parse([]byte("state_dir = \"" + f[0] + "\"\ndomain = \"lists.test\"\nsmtp_addr = \"" + f[1] + "\"\n"))
	if err != nil {
		return err
	}
	cfg.QueueKeyFile = f[2]
	if point, ns, ok := strings.Cut(f[3], ":"); ok {
		n, _ := strconv.Atoi(ns)
		seen := 0
		queue.FaultHook = func(p string) error {
			if p == point {
				if seen++; seen == n {
					syscall.Kill(os.Getpid(), syscall.SIGKILL)
					time.Sleep(time.Minute)
				}
			}
			return nil
		}
	}
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return err
	}
	for round := 0; ; round++ {
		busy := false
		for i := len(All) - 1; i >= 0; i-- {
			r := All[i]
			ready, err := s.Queue(r.Queue()).Ready(queue.All, time.Now())
			if err != nil {
				return err
			}
			if len(ready) == 0 && round > 0 {
				continue
			}
			busy = true
			l := &Loop{Site: s, Runner: r, Slice: queue.All, Once: true}
			if err := l.Run(context.Background()); err != nil {
				return err
			}
		}
		if !busy {
			return nil
		}
	}
}
