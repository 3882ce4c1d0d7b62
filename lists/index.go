package lists

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"

	bolt "go.etcd.io/bbolt"
)

// WriteIndex rewrites the lists index at path (lists.idx: one posting
// address per line, sorted) atomically. It holds the exclusive lock while it
// reads and writes, so concurrent writers cannot leave a stale index.
func (s *Store) WriteIndex(path string) error {
	return s.withDB(true, true, func(db *bolt.DB) error {
		return writeIndex(db, path)
	})
}

// writeIndex reads the list addresses from db and replaces path with them.
func writeIndex(db *bolt.DB, path string) error {
	var buf bytes.Buffer
	err := db.View(func(btx *bolt.Tx) error {
		tx := &Tx{btx: btx}
		addrs, err := tx.ListAddresses()
		if err != nil {
			return err
		}
		for _, a := range addrs {
			buf.WriteString(a)
			buf.WriteByte('\n')
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("write index %s: %w", path, err)
	}
	if err := writeFileAtomic(path, buf.Bytes(), 0o644); err != nil {
		return fmt.Errorf("write index: %w", err)
	}
	return nil
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, fsync, rename over path, fsync of the directory. Readers see
// the old file or the new one, never a mix; after a crash, one of the two.
func writeFileAtomic(path string, data []byte, perm os.FileMode) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create temp file: %w", err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		return fmt.Errorf("write %s: %w", tmp, err)
	}
	if err = f.Chmod(perm); err != nil {
		return fmt.Errorf("chmod %s: %w", tmp, err)
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	if err = os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename to %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open directory %s: %w", dir, err)
	}
	defer d.Close()
	if err = d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
