package harness

import (
	"bytes"
	"net"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"cloister/internal/sitetest"
)

// StartRunners runs `cloister runners` for the site of cfgPath until the
// test ends (or the returned stop is called), logging to dir/runners.log,
// which is shown when the test fails.
func StartRunners(t *testing.T, cloister, cfgPath, dir string) (stop func()) {
	t.Helper()
	return sitetest.StartRunners(t, cloister, cfgPath, dir)
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

// StartSocketmap runs `cloister mta socketmap` for the site of cfgPath until
// the test ends (or the returned stop is called), logging to
// dir/socketmap.log, and waits until it listens on listen (a loopback
// host:port).
func StartSocketmap(t *testing.T, cloister, cfgPath, dir, listen string) (stop func()) {
	t.Helper()
	stop = sitetest.Start(t, cloister, cfgPath, filepath.Join(dir, "socketmap.log"), "mta", "socketmap")
	Wait(t, 20*time.Second, "cloister mta socketmap to listen on "+listen, func() bool {
		c, err := net.Dial("tcp", listen)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	return stop
}
