// Package fulldisk starts a runner process on a full disk, as systemd's
// restart of a killed runner would, and checks that it waits instead of
// exiting and says so in `cloister status` and the metrics:
//
//	deliver -> queue/in -> [incoming, restarted on a full tmpfs: waits] -> queue/rules
//	                              |
//	                              +-> status: waiting (no space left on device); cloister_runner_waiting 1
//
// The state directory is a real 8 MB tmpfs, filled until writes fail with
// ENOSPC, then freed: the runner goes on by itself.
package fulldisk

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"cloister/internal/sitetest"
	"cloister/test/e2e/harness"
)

type runnerState struct {
	Runner, State, Waiting string
}

func TestRunnerStartedOnFullDiskReportsWaiting(t *testing.T) {
	dir := harness.WorkDir(t)
	bins := harness.Build(t, filepath.Join(dir, "bin"))
	sink := sitetest.StartSink(t, filepath.Join(dir, "mail"))
	state := filepath.Join(dir, "state")
	if err := os.MkdirAll(state, 0o750); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", state).CombinedOutput(); err != nil {
		t.Fatalf("mount a tmpfs on %s (the suite needs root: run it through make test): %v %s", state, err, out)
	}
	defer exec.Command("umount", "-l", state).Run()
	env := []string{"CLOISTER_CONFIG=" + filepath.Join(state, "cloister.toml")}
	harness.Run(t, nil, bins.Cloister, "init", "--state-dir", state, "--domain", "lists.test", "--smtp", sink.Addr)
	harness.Run(t, env, bins.Cloister, "list", "create", "team", "--owner", "ann@subs.test")
	harness.Run(t, env, bins.Cloister, "member", "add", "team", "bob@subs.test")

	start := func() (*exec.Cmd, *bytes.Buffer) {
		cmd := exec.Command(bins.Cloister, "runner", "incoming")
		cmd.Env = append(os.Environ(), env...)
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		return cmd, &log
	}
	// A first run, killed: its heartbeat file stays, as after any crash.
	first, _ := start()
	harness.Wait(t, time.Minute, "the first runner's heartbeat", func() bool { return len(runnersIn(t, env, bins)) == 1 })
	first.Process.Signal(syscall.SIGKILL)
	first.Wait()

	msg := "From: bob@subs.test\nTo: team@lists.test\nSubject: full disk\nMessage-ID: <full@subs.test>\n\nbody\n"
	if _, errOut, err := harness.RunErr(env, []byte(msg), bins.Deliver, "-f", "bob@subs.test", "team@lists.test"); err != nil {
		t.Fatalf("deliver: %v %s", err, errOut)
	}
	filler := filepath.Join(state, "filler")
	fill(t, filler)

	runner, log := start() // systemd restarts it, on the full disk
	exited := make(chan error, 1)
	go func() { exited <- runner.Wait() }()
	harness.Wait(t, 2*time.Minute, "status to show the runner waiting", func() bool {
		select {
		case err := <-exited:
			t.Fatalf("the runner exited on the full disk: %v\n%s", err, log)
		default:
		}
		for _, r := range runnersIn(t, env, bins) {
			if r.Runner == "incoming" && r.State == "waiting" && strings.Contains(r.Waiting, "no space left on device") {
				return true
			}
		}
		return false
	})
	metrics := harness.Run(t, env, bins.Cloister, "metrics", "--once")
	if !strings.Contains(metrics, `cloister_runner_waiting{runner="incoming",slice="0/1"} 1`) {
		t.Errorf("the metrics do not show the runner waiting:\n%s", metrics)
	}
	text := harness.Run(t, env, bins.Cloister, "status")
	if !strings.Contains(text, "waiting (") {
		t.Errorf("status does not show the runner waiting:\n%s", text)
	}
	if !strings.Contains(log.String(), "waiting for a temporary condition to clear") {
		t.Errorf("no warning logged:\n%s", log)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	harness.Wait(t, 2*time.Minute, "the post in queue/rules and the runner no longer waiting", func() bool {
		names, _ := filepath.Glob(filepath.Join(state, "queue", "rules", "*.msg"))
		for _, r := range runnersIn(t, env, bins) {
			if r.Runner == "incoming" && r.State == "alive" {
				return len(names) == 1
			}
		}
		return false
	})
	runner.Process.Signal(syscall.SIGTERM)
	if err := <-exited; err != nil {
		t.Errorf("the runner did not stop cleanly: %v\n%s", err, log)
	}
}

// runnersIn returns what `cloister status --json` says of the runners.
func runnersIn(t *testing.T, env []string, bins harness.Binaries) []runnerState {
	t.Helper()
	out := harness.Run(t, env, bins.Cloister, "status", "--json")
	var st struct{ Runners []runnerState }
	if err := json.Unmarshal([]byte(out), &st); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return st.Runners
}

// fill writes a file until the file system is full.
func fill(t *testing.T, path string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	chunk := make([]byte, 4096)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatal(err)
			}
			return
		}
	}
}
