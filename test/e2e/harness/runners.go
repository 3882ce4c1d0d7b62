package harness

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// StartRunners runs `cloister runners` for the site of cfgPath until the
// test ends, logging to dir/runners.log, which is shown when the test fails.
func StartRunners(t *testing.T, cloister, cfgPath, dir string) {
	t.Helper()
	runners := exec.Command(cloister, "runners")
	runners.Env = append(os.Environ(), "CLOISTER_CONFIG="+cfgPath)
	logPath := filepath.Join(dir, "runners.log")
	runLog, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	runners.Stdout, runners.Stderr = runLog, runLog
	if err := runners.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		runners.Process.Signal(syscall.SIGTERM)
		runners.Wait()
		runLog.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logPath)
			t.Logf("runners log:\n%s", b)
		}
	})
}

// WaitMail waits until mailbox(addr) holds at least n messages and returns
// them (Maildir names do not sort by arrival within a second: look for a
// message by content with FindMail when order matters).
func WaitMail(t *testing.T, mailbox func(string) [][]byte, addr string, n int) [][]byte {
	t.Helper()
	Wait(t, 60*time.Second, addr+" to receive "+strconv.Itoa(n)+" messages", func() bool { return len(mailbox(addr)) >= n })
	return mailbox(addr)
}

// FindMail waits for a message to addr containing want and returns it.
func FindMail(t *testing.T, mailbox func(string) [][]byte, addr, want string) []byte {
	t.Helper()
	var found []byte
	Wait(t, 60*time.Second, addr+" to receive a message with "+want, func() bool {
		for _, m := range mailbox(addr) {
			if bytes.Contains(m, []byte(want)) {
				found = m
				return true
			}
		}
		return false
	})
	return found
}
