package mta

import (
	"os"
	"syscall"
)

// inode returns the file's inode number (0 where the platform has none), so
// that a file replaced by rename is read again even within one mtime tick.
func inode(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return st.Ino
	}
	return 0
}
