package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"time"

	"cloister/runners"
)

// Supervision of the runners as child processes (`cloister runners`
// without --in-process): what systemd's cloister.target does, for a
// container, runit or a plain shell.
const (
	// restartMin is the first wait before a dead runner is started again;
	// each death within restartStable of its start doubles it, up to restartMax.
	restartMin = time.Second
	restartMax = time.Minute
	// restartStable is how long a runner must live for its next death to
	// be waited out from restartMin again.
	restartStable = time.Minute
	// stopGrace is how long the children have to finish the entry in hand
	// after SIGTERM before they are killed (the units' TimeoutStopSec).
	stopGrace = 60 * time.Second
)

// socketmapChild is the name of the `cloister mta socketmap` child that
// `cloister runners --socketmap` supervises beside the runners.
const socketmapChild = "socketmap"

// supervisor starts one child per runner and keeps each running.
type supervisor struct {
	// command returns the child process for a runner.
	command func(name string) *exec.Cmd
	log     *slog.Logger
	// min, max and stable are the restart backoff (restartMin, restartMax, restartStable).
	min, max, stable time.Duration
	// grace bounds the wait for the children after the context ends.
	grace time.Duration
}

// childCommand runs `cloister [--config C] [--log-*] runner NAME` with the
// binary running now. The child stops with the supervisor even when the
// supervisor is killed (Pdeathsig), and does not speak to systemd: the
// supervisor does.
func (a *app) childCommand(self, name string) *exec.Cmd {
	var args []string
	if a.configPath != "" {
		args = append(args, "--config", a.configPath)
	}
	args = append(args, "--log-format", a.logFormat, "--log-level", a.logLevel)
	if name == socketmapChild {
		args = append(args, "mta", "socketmap")
	} else {
		args = append(args, "runner", name)
	}
	cmd := exec.Command(self, args...)
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); k == "NOTIFY_SOCKET" || k == "WATCHDOG_USEC" || k == "WATCHDOG_PID" {
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	return cmd
}

// run starts every runner and restarts each that exits, with backoff,
// until ctx ends; then it sends SIGTERM to every child and waits for them
// (SIGKILL after grace). It returns when all children have exited.
func (sv *supervisor) run(ctx context.Context, names []string) {
	var wg sync.WaitGroup
	for _, name := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sv.keep(ctx, name)
		}()
	}
	wg.Wait()
}

// keep runs one runner's child until ctx ends.
func (sv *supervisor) keep(ctx context.Context, name string) {
	// Pdeathsig fires when the thread that started the child ends: keep
	// this goroutine on one thread for as long as it has a child.
	runtime.LockOSThread()
	delay := sv.min
	for n := 1; ; n++ {
		cmd := sv.command(name)
		started := time.Now()
		if err := cmd.Start(); err != nil {
			sv.log.Error("runner did not start", "runner", name, "err", err, "restart_in", delay)
		} else {
			sv.log.Info("runner started", "runner", name, "pid", cmd.Process.Pid, "start", n)
			err := sv.wait(ctx, cmd)
			if ctx.Err() != nil {
				sv.log.Info("runner stopped", "runner", name, "pid", cmd.Process.Pid, "exit", exitText(err))
				return
			}
			if time.Since(started) >= sv.stable {
				delay = sv.min
			}
			sv.log.Warn("runner died, restarting", "runner", name, "pid", cmd.Process.Pid, "exit", exitText(err), "restart_in", delay)
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
		delay = min(2*delay, sv.max)
	}
}

// wait waits for cmd to exit; when ctx ends first it sends SIGTERM, then
// SIGKILL after the grace period.
func (sv *supervisor) wait(ctx context.Context, cmd *exec.Cmd) error {
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-done:
		return err
	case <-time.After(sv.grace):
		sv.log.Warn("runner did not stop in time, killing it", "pid", cmd.Process.Pid, "grace", sv.grace)
		cmd.Process.Kill()
		return <-done
	}
}

// exitText says how a child ended.
func exitText(err error) string {
	if err == nil {
		return "exit status 0"
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.String()
	}
	return err.Error()
}

// runnerNamesList returns the names of every runner, in table order.
func runnerNamesList() []string {
	var names []string
	for _, r := range runners.All {
		names = append(names, r.Name())
	}
	return names
}
