package queue

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// tempPattern names temp files after the writing process, so that recovery
// can remove those left by a process that died without touching those of a
// live one (several processes may share a queue).
func tempPattern(prefix string) string {
	return prefix + "-" + strconv.Itoa(os.Getpid()) + "-*"
}

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

// syncDir fsyncs a directory so that a rename or removal in it is durable.
func syncDir(dir string) error {
	if err := fault(PointSyncDir); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}

// testHookBeforeRename, when set by tests, runs between writing and renaming a
// temp file, to inject failures.
var testHookBeforeRename func(tmp string) error

// WriteFileAtomic writes a file durably: a temp file in the same directory,
// fsync, rename over path, fsync of the directory. Every durable write of
// Cloister's state outside bbolt goes through it (or through writeTemp).
func WriteFileAtomic(path string, perm os.FileMode, write func(w io.Writer) error) error {
	dir := filepath.Dir(path)
	if err := fault(PointCreate); err != nil {
		return fmt.Errorf("create temp in %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, tempPattern(".tmp"))
	if err != nil {
		return fmt.Errorf("create temp in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	ok := false
	defer func() {
		if !ok {
			tmp.Close()
			os.Remove(tmpName)
		}
	}()
	if err := write(tmp); err != nil {
		return err
	}
	if err := fault(PointWrite); err != nil {
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmpName, err)
	}
	if err := fault(PointSync); err != nil {
		return fmt.Errorf("sync %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if testHookBeforeRename != nil {
		if err := testHookBeforeRename(tmpName); err != nil {
			return err
		}
	}
	if err := fault(PointRename); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	ok = true
	return syncDir(dir)
}
