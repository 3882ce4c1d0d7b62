package sitetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
)

// Start runs the built cloister with args for the site of cfgPath
// (CLOISTER_CONFIG) as its own process until the test ends or the returned
// stop is called: its output goes to logPath, which is shown when the test
// fails; stop sends SIGTERM and waits for the process to exit.
func Start(t testing.TB, cloister, cfgPath, logPath string, args ...string) (stop func()) {
	t.Helper()
	cmd := exec.Command(cloister, args...)
	cmd.Env = append(os.Environ(), "CLOISTER_CONFIG="+cfgPath)
	log, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
			log.Close()
		})
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("cloister %v log (%s):\n%s", args, logPath, b)
		}
	})
	return stop
}

// StartRunners runs `cloister runners` (every runner, supervised) for the
// site of cfgPath, logging to dir/runners.log, as Start does.
func StartRunners(t testing.TB, cloister, cfgPath, dir string) (stop func()) {
	t.Helper()
	return Start(t, cloister, cfgPath, filepath.Join(dir, "runners.log"), "runners")
}
