package lists

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteIndex(t *testing.T) {
	s, _ := testStore(t)
	idx := filepath.Join(filepath.Dir(s.Path), "lists.idx")
	read := func() string {
		t.Helper()
		data, err := os.ReadFile(idx)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	// Explicit rewrite of an empty store.
	if err := s.WriteIndex(idx); err != nil {
		t.Fatal(err)
	}
	if got := read(); got != "" {
		t.Fatalf("empty index = %q", got)
	}
	// With IndexPath set, creating and deleting lists rewrites it.
	s.IndexPath = idx
	steps := []struct {
		name string
		fn   func(tx *Tx) error
		want string
	}{
		{"create two", func(tx *Tx) error {
			for _, a := range []string{"zeta@l.test", "Alpha@L.test"} {
				l, err := NewList(a, tx.Now())
				if err != nil {
					return err
				}
				if err := tx.CreateList(l); err != nil {
					return err
				}
			}
			return nil
		}, "alpha@l.test\nzeta@l.test\n"},
		{"delete one", func(tx *Tx) error { return tx.DeleteList("zeta@l.test") }, "alpha@l.test\n"},
	}
	for _, st := range steps {
		mustUpdate(t, s, st.fn)
		if got := read(); got != st.want {
			t.Fatalf("%s: index = %q, want %q", st.name, got, st.want)
		}
	}
	// A member change does not touch it: remove the file and check it stays gone.
	os.Remove(idx)
	mustUpdate(t, s, func(tx *Tx) error {
		return tx.AddMember("alpha@l.test", &Member{Address: "ann@subs.test"})
	})
	if _, err := os.Stat(idx); !os.IsNotExist(err) {
		t.Fatalf("member change rewrote the index: %v", err)
	}
	// No temp files are left behind; the index is world-readable for deliver.
	if err := s.WriteIndex(idx); err != nil {
		t.Fatal(err)
	}
	ents, _ := os.ReadDir(filepath.Dir(idx))
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temp file left: %s", e.Name())
		}
	}
	if fi, _ := os.Stat(idx); fi.Mode().Perm() != 0o644 {
		t.Errorf("index mode %v", fi.Mode())
	}
}

func TestWriteIndexFailureKeepsOld(t *testing.T) {
	s, _ := testStore(t)
	createList(t, s, "team@l.test")
	dir := t.TempDir()
	idx := filepath.Join(dir, "lists.idx")
	if err := os.WriteFile(idx, []byte("old@l.test\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// A directory where the temp file cannot be created: the write fails and
	// the old index stays as it was.
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(dir, 0o700)
	if os.Geteuid() == 0 {
		// root ignores directory permissions: use a missing directory instead.
		if err := s.WriteIndex(filepath.Join(dir, "missing", "lists.idx")); err == nil {
			t.Fatal("WriteIndex into a missing directory succeeded")
		}
	} else if err := s.WriteIndex(idx); err == nil {
		t.Fatal("WriteIndex into a read-only directory succeeded")
	}
	data, _ := os.ReadFile(idx)
	if string(data) != "old@l.test\n" {
		t.Fatalf("old index changed to %q", data)
	}
}
