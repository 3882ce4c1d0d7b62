// Package safeio writes files durably: a temp file in the same directory,
// written, fsynced and closed, then renamed (or linked) into place and the
// directory fsynced, so that a reader or a crash sees either the old file or
// the whole new one, never part of it. Every durable write of Cloister's
// state outside bbolt and the queue's hand-over protocol goes through it.
package safeio

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
)

// FaultHook, when set, is called at each named point of a write (see the
// Point constants), and an error it returns is returned as the write's own
// error. The queue installs its own fault hook here (queue.FaultHook), so
// that fault-injection tests reach every durable write. It is nil in
// production.
var FaultHook func(point string) error

// Points at which FaultHook is called, each before the system call it names.
const (
	PointCreate  = "create"  // creating the temp file
	PointWrite   = "write"   // after writing the temp file's bytes
	PointSync    = "sync"    // fsync of the written temp file
	PointRename  = "rename"  // renaming (or linking) the temp file into place
	PointSyncDir = "syncdir" // fsync of the directory after the rename
)

func fault(point string) error {
	if FaultHook == nil {
		return nil
	}
	return FaultHook(point)
}

// TempPattern is the os.CreateTemp pattern of the temp files safeio (and the
// queue) write: prefix, the writing process's id, a random part. Naming them
// after the writer lets recovery remove those left by a process that died
// without touching those of a live one.
func TempPattern(prefix string) string {
	return prefix + "-" + strconv.Itoa(os.Getpid()) + "-*"
}

// TempPrefix begins the name of every temp file WriteFile leaves behind
// when its process dies mid-write.
const TempPrefix = ".tmp"

// Option changes how WriteFile writes.
type Option func(*options)

type options struct {
	createOnly bool
	noSync     bool
}

// CreateOnly makes the write fail, with an error wrapping os.ErrExist, when
// path exists, instead of replacing it. The file still appears whole (it is
// hard-linked into place), and of two writers racing to create it exactly
// one wins.
func CreateOnly() Option { return func(o *options) { o.createOnly = true } }

// NoSync skips both fsyncs, for files that are worthless after a crash (a
// heartbeat): the file still appears whole, but may be lost or old after a
// power failure.
func NoSync() Option { return func(o *options) { o.noSync = true } }

// WriteFile writes data to path durably, with mode perm (not masked by the
// umask).
func WriteFile(path string, data []byte, perm os.FileMode, opts ...Option) error {
	return WriteFunc(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}, opts...)
}

// WriteFunc writes the file at path durably with what write writes, with
// mode perm (not masked by the umask). An error from write is returned as
// it is; on any error the temp file is removed and path is untouched.
func WriteFunc(path string, perm os.FileMode, write func(w io.Writer) error, opts ...Option) error {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	dir := filepath.Dir(path)
	if err := fault(PointCreate); err != nil {
		return fmt.Errorf("create temp in %s: %w", dir, err)
	}
	tmp, err := os.CreateTemp(dir, TempPattern(TempPrefix))
	if err != nil {
		return fmt.Errorf("create temp in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	renamed := false
	defer func() {
		tmp.Close()
		if !renamed || o.createOnly {
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
	if !o.noSync {
		if err := fault(PointSync); err != nil {
			return fmt.Errorf("sync %s: %w", tmpName, err)
		}
		if err := tmp.Sync(); err != nil {
			return fmt.Errorf("sync %s: %w", tmpName, err)
		}
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if err := fault(PointRename); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	if o.createOnly {
		// A hard link appears whole and fails if the name is taken.
		if err := os.Link(tmpName, path); err != nil {
			return fmt.Errorf("create %s: %w", path, err)
		}
	} else if err := os.Rename(tmpName, path); err != nil {
		return fmt.Errorf("rename %s: %w", path, err)
	}
	renamed = true
	if o.noSync {
		return nil
	}
	return SyncDir(dir)
}

// SyncDir fsyncs a directory, so that a rename, link or removal in it is
// durable.
func SyncDir(dir string) error {
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
