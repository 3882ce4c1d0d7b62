package lists

import (
	"bytes"
	"fmt"
	"io"
	"os"

	bolt "go.etcd.io/bbolt"

	"cloister/internal/safeio"
)

// WriteIndex rewrites the lists index at path (lists.idx: one posting
// address per line, sorted) and each of copies atomically. It holds the
// exclusive lock while it reads and writes, so concurrent writers cannot
// leave a stale index.
func (s *Store) WriteIndex(path string, copies ...string) error {
	return s.withDB(true, true, func(db *bolt.DB) error {
		return writeIndex(db, path, copies...)
	})
}

// writeIndex reads the list addresses from db and replaces path and each
// of copies with them.
func writeIndex(db *bolt.DB, path string, copies ...string) error {
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
	for _, p := range append([]string{path}, copies...) {
		if err := writeFileAtomic(p, buf.Bytes(), 0o644); err != nil {
			return fmt.Errorf("write index: %w", err)
		}
	}
	return nil
}

// writeFileAtomic replaces path with data through the one durable writer
// (temp file, fsync, rename, directory fsync): readers see the old file or
// the new one, never a mix; after a crash, one of the two.
func writeFileAtomic(path string, data []byte, perm os.FileMode) error {
	return safeio.WriteFunc(path, perm, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}
