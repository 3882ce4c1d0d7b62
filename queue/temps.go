package queue

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// removeStaleTemps deletes temp files whose writer is no longer running.
func (q *Queue) removeStaleTemps() error {
	d, err := os.ReadDir(q.Dir)
	if err != nil {
		return fmt.Errorf("list queue %s: %w", q.Name, err)
	}
	for _, de := range d {
		n := de.Name()
		if !strings.HasPrefix(n, ".tmp-") && !strings.HasPrefix(n, ".spool-") {
			continue
		}
		parts := strings.SplitN(n, "-", 3)
		if len(parts) < 3 {
			continue
		}
		pid, err := strconv.Atoi(parts[1])
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); err == nil || errors.Is(err, syscall.EPERM) {
			continue // the writer is alive
		}
		if err := os.Remove(filepath.Join(q.Dir, n)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove stale temp %s: %w", n, err)
		}
	}
	return nil
}

// testHookBeforeRename, when set by tests, runs between writing an entry's
// temp file and renaming it into place, to inject failures.
var testHookBeforeRename func(tmp string) error
