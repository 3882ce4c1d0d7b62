package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/sitetest"
)

// cli runs one cloister command in this process, as the binary would.
func cli(t *testing.T, args ...string) (string, error) {
	t.Helper()
	a := &app{logLevel: "error"}
	root := a.rootCmd()
	root.SetArgs(append([]string{"--log-level", "error"}, args...))
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	err := root.Execute()
	return out.String(), err
}

// newSite creates a site in a temp dir and returns its config path.
func newSite(t *testing.T) string {
	t.Helper()
	return cliSite(t, filepath.Join(t.TempDir(), "state"), "127.0.0.1:1").Config
}

// cliSite makes a site in state with `cloister init` (mail to smtpAddr),
// the commands run in process.
func cliSite(t *testing.T, state, smtpAddr string) *sitetest.CLISite {
	t.Helper()
	return sitetest.Init(t, func(args ...string) (string, error) { return cli(t, args...) }, state, smtpAddr)
}

// listenNotify is a fake $NOTIFY_SOCKET; it returns what systemd would
// receive, one datagram per element, until nothing comes for a while.
func listenNotify(t *testing.T) (path string, received func() []string) {
	t.Helper()
	path = filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return path, func() []string {
		var got []string
		buf := make([]byte, 4096)
		for {
			conn.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			n, err := conn.Read(buf)
			if err != nil {
				return got
			}
			got = append(got, string(buf[:n]))
		}
	}
}

// TestRunnerNotifiesSystemd runs `cloister runner incoming --once` under a
// fake NOTIFY_SOCKET, with and without a watchdog.
func TestRunnerNotifiesSystemd(t *testing.T) {
	cfg := newSite(t)
	tests := []struct {
		name     string
		watchdog string
		want     []string
	}{
		{"no watchdog", "", []string{"READY=1", "STOPPING=1"}},
		{"watchdog", "2000000", []string{"READY=1", "WATCHDOG=1", "STOPPING=1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sock, received := listenNotify(t)
			t.Setenv("NOTIFY_SOCKET", sock)
			t.Setenv("WATCHDOG_PID", "")
			os.Unsetenv("WATCHDOG_PID")
			if tt.watchdog != "" {
				t.Setenv("WATCHDOG_USEC", tt.watchdog)
			} else {
				t.Setenv("WATCHDOG_USEC", "")
				os.Unsetenv("WATCHDOG_USEC")
			}
			if out, err := cli(t, "--config", cfg, "runner", "incoming", "--once"); err != nil {
				t.Fatalf("runner: %v\n%s", err, out)
			}
			if got := received(); strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("notifications %q, want %q", got, tt.want)
			}
		})
	}
}

// TestWatchdogWaitsForEveryLoop checks that with several loops in one
// process WATCHDOG=1 goes out only once each loop has ticked.
func TestWatchdogWaitsForEveryLoop(t *testing.T) {
	sock, received := listenNotify(t)
	t.Setenv("NOTIFY_SOCKET", sock)
	t.Setenv("WATCHDOG_USEC", "2000000")
	t.Setenv("WATCHDOG_PID", "")
	os.Unsetenv("WATCHDOG_PID")
	wd := newWatchdog(3)
	if wd == nil || wd.every != time.Second {
		t.Fatalf("watchdog %+v", wd)
	}
	now := time.Now()
	wd.tick(0, now)
	wd.tick(1, now)
	wd.tick(0, now)
	if got := received(); len(got) != 0 {
		t.Fatalf("notified before loop 2 ticked: %q", got)
	}
	wd.tick(2, now)
	if got := received(); len(got) != 1 || got[0] != "WATCHDOG=1" {
		t.Fatalf("after every loop ticked: %q", got)
	}
	// All tick again, but within half the interval: no new notification.
	for i := range 3 {
		wd.tick(i, now.Add(100*time.Millisecond))
	}
	if got := received(); len(got) != 0 {
		t.Fatalf("notified again too soon: %q", got)
	}
	for i := range 3 {
		wd.tick(i, now.Add(1100*time.Millisecond))
	}
	if got := received(); len(got) != 1 {
		t.Fatalf("no notification after the interval: %q", got)
	}
}

// TestStatusShowsRunnersAlive starts a runner in this process and checks that
// `status --json` lists it alive, and that a stopped runner's file is gone.
func TestStatusShowsRunnersAlive(t *testing.T) {
	cfg := newSite(t)
	done := make(chan error, 1)
	a := &app{logLevel: "error"}
	root := a.rootCmd()
	root.SetArgs([]string{"--log-level", "error", "--config", cfg, "runner", "archive"})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { done <- root.ExecuteContext(ctx) }()
	var st status
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, err := cli(t, "--config", cfg, "status", "--json")
		if err != nil {
			t.Fatal(err)
		}
		st = status{}
		if err := json.Unmarshal([]byte(out), &st); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if len(st.Runners) > 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(st.Runners) != 1 || st.Runners[0].Runner != "archive" || st.Runners[0].State != "alive" || st.Runners[0].PID != os.Getpid() {
		t.Fatalf("runners %+v", st.Runners)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("runner: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the runner did not stop")
	}
	out, err := cli(t, "--config", cfg, "status")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "(none running)") {
		t.Errorf("status after the runner stopped:\n%s", out)
	}
}
