package keyring

import (
	"os"
	"sync"
	"syscall"
	"time"
)

// genCheckEvery is how often a reader also checks that neither keyring.db
// nor the generation file was replaced behind the keyring's back (a
// restore, an operator's copy): such a replacement does not change the
// token, so a stat of both files catches it.
const genCheckEvery = time.Second

// fileStamp identifies one version of a file: inode, size and mtime.
type fileStamp struct {
	ino, size, mtime int64
}

// stampOf stats path; the zero stamp when it cannot.
func stampOf(path string) fileStamp {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return fileStamp{}
	}
	return fileStamp{ino: int64(st.Ino), size: st.Size, mtime: st.Mtim.Nano()}
}

// genFile reads the generation token of a keyring. The file is kept open
// and read with pread (one system call per lookup, where opening it each
// time cost three and most of a lookup's time); writers rewrite it in
// place, so the open file always shows the current token.
type genFile struct {
	path string

	mu      sync.Mutex
	f       *os.File
	ino     int64
	checked time.Time
}

// token returns the current token, or nil if there is none.
func (g *genFile) token() []byte {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.f == nil {
		f, err := os.Open(g.path)
		if err != nil {
			return nil
		}
		g.f, g.ino, g.checked = f, stampOf(g.path).ino, time.Now()
	}
	buf := make([]byte, 64)
	n, err := g.f.ReadAt(buf, 0)
	if n <= 0 || err != nil && n == 0 {
		return nil
	}
	return buf[:n]
}

// unchanged reports whether, as far as a check at most genCheckEvery old
// knows, the generation file is the one held open and db still has stamp.
func (g *genFile) unchanged(db string, stamp fileStamp) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if time.Since(g.checked) < genCheckEvery {
		return true
	}
	g.checked = time.Now()
	if g.f != nil && stampOf(g.path).ino != g.ino {
		g.f.Close()
		g.f = nil
		return false
	}
	return stampOf(db) == stamp
}

// close releases the open generation file.
func (g *genFile) close() error {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.f == nil {
		return nil
	}
	err := g.f.Close()
	g.f = nil
	return err
}
