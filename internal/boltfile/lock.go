package boltfile

import (
	"errors"
	"fmt"
	"os"
	"syscall"
	"time"
)

// Lock takes a shared or exclusive flock on path (created with mode 0600 if
// missing), waiting at most timeout, and returns the open file that holds
// the lock: closing it releases the lock. A wait past timeout returns an
// error wrapping ErrLockTimeout.
func Lock(path string, exclusive bool, timeout time.Duration) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open lock file: %w", err)
	}
	how := syscall.LOCK_SH
	if exclusive {
		how = syscall.LOCK_EX
	}
	fd := int(f.Fd())
	err = syscall.Flock(fd, how|syscall.LOCK_NB)
	if err == nil {
		return f, nil
	}
	if !errors.Is(err, syscall.EWOULDBLOCK) {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	// Contended: block in flock(2) on a goroutine so the kernel wakes us as
	// soon as the lock is free, and give up after timeout.
	done := make(chan error, 1)
	go func() {
		for {
			err := syscall.Flock(fd, how)
			if !errors.Is(err, syscall.EINTR) {
				done <- err
				return
			}
		}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case err := <-done:
		if err != nil {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", path, err)
		}
		return f, nil
	case <-timer.C:
		// The goroutine still waits in flock; close the file (dropping the
		// lock if it was granted meanwhile) only once it has returned.
		go func() {
			<-done
			f.Close()
		}()
		return nil, fmt.Errorf("lock %s after %v: %w", path, timeout, ErrLockTimeout)
	}
}
