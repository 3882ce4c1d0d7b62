package safeio

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
)

// dirNames lists a directory's entries, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	sort.Strings(out)
	return out
}

func TestWriteFile(t *testing.T) {
	errWrite := errors.New("writer failed")
	errFault := errors.New("injected")
	tests := []struct {
		name     string
		old      string // content of path before the write; "" for none
		perm     os.FileMode
		opts     []Option
		write    func(io.Writer) error
		faultAt  string // point at which FaultHook fails
		wantErr  error  // nil: the write must succeed
		want     string // content of path after the write; "" for none
		wantPerm os.FileMode
	}{
		{name: "new file", perm: 0o640, want: "new", wantPerm: 0o640},
		{name: "mode not masked", perm: 0o666, want: "new", wantPerm: 0o666},
		{name: "replaces", old: "old", perm: 0o600, want: "new", wantPerm: 0o600},
		{name: "create only, new", perm: 0o600, opts: []Option{CreateOnly()}, want: "new", wantPerm: 0o600},
		{name: "create only, taken", old: "old", perm: 0o600, opts: []Option{CreateOnly()}, wantErr: os.ErrExist, want: "old"},
		{name: "no sync", old: "old", perm: 0o640, opts: []Option{NoSync()}, want: "new", wantPerm: 0o640},
		{name: "writer fails", old: "old", perm: 0o600, write: func(io.Writer) error { return errWrite }, wantErr: errWrite, want: "old"},
		{name: "writer fails, no file", perm: 0o600, write: func(io.Writer) error { return errWrite }, wantErr: errWrite},
		{name: "fault at create", old: "old", perm: 0o600, faultAt: PointCreate, wantErr: errFault, want: "old"},
		{name: "fault at write", old: "old", perm: 0o600, faultAt: PointWrite, wantErr: errFault, want: "old"},
		{name: "fault at sync", old: "old", perm: 0o600, faultAt: PointSync, wantErr: errFault, want: "old"},
		{name: "fault at rename", old: "old", perm: 0o600, faultAt: PointRename, wantErr: errFault, want: "old"},
		{name: "fault at rename, create only", perm: 0o600, opts: []Option{CreateOnly()}, faultAt: PointRename, wantErr: errFault},
		// The rename is done: the new file is in place, but the caller
		// hears that it may not be durable.
		{name: "fault at sync dir", old: "old", perm: 0o600, faultAt: PointSyncDir, wantErr: errFault, want: "new", wantPerm: 0o600},
		{name: "no sync skips the fsyncs", old: "old", perm: 0o600, opts: []Option{NoSync()}, faultAt: PointSync, want: "new", wantPerm: 0o600},
		{name: "no sync skips the dir fsync", old: "old", perm: 0o600, opts: []Option{NoSync()}, faultAt: PointSyncDir, want: "new", wantPerm: 0o600},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "f")
			if tt.old != "" {
				if err := os.WriteFile(path, []byte(tt.old), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			if tt.faultAt != "" {
				FaultHook = func(p string) error {
					if p == tt.faultAt {
						return errFault
					}
					return nil
				}
				t.Cleanup(func() { FaultHook = nil })
			}
			write := tt.write
			if write == nil {
				write = func(w io.Writer) error { _, err := io.WriteString(w, "new"); return err }
			}
			err := WriteFunc(path, tt.perm, write, tt.opts...)
			if tt.wantErr == nil && err != nil {
				t.Fatalf("WriteFunc: %v", err)
			}
			if tt.wantErr != nil && !errors.Is(err, tt.wantErr) {
				t.Fatalf("WriteFunc = %v, want an error wrapping %v", err, tt.wantErr)
			}
			wantNames := []string(nil)
			if tt.want != "" {
				wantNames = []string{"f"}
			}
			if got := dirNames(t, dir); !equal(got, wantNames) {
				t.Fatalf("directory holds %q, want %q (no temp file may stay)", got, wantNames)
			}
			if tt.want == "" {
				return
			}
			b, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Fatalf("file holds %q, want %q", b, tt.want)
			}
			if tt.wantPerm != 0 {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if fi.Mode().Perm() != tt.wantPerm {
					t.Fatalf("mode %v, want %v", fi.Mode().Perm(), tt.wantPerm)
				}
			}
		})
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestWriteFileBadDirectory(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name string
		path string
	}{
		{"missing directory", filepath.Join(dir, "nope", "f")},
		{"directory is a file", filepath.Join(dir, "file", "f")},
		{"path is a directory", filepath.Join(dir, "sub")},
	}
	if err := os.WriteFile(filepath.Join(dir, "file"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(filepath.Join(dir, "sub"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "sub", "keep"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := WriteFile(tt.path, []byte("x"), 0o600); err == nil {
				t.Fatal("WriteFile succeeded")
			}
			if got, want := dirNames(t, dir), []string{"file", "sub"}; !equal(got, want) {
				t.Fatalf("directory holds %q, want %q", got, want)
			}
		})
	}
}

// TestCreateOnlyRace: of writers racing to create one file, exactly one
// wins, and the file holds that one's bytes whole.
func TestCreateOnlyRace(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "secret")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = WriteFile(path, []byte{'a' + byte(i)}, 0o600, CreateOnly())
		}()
	}
	wg.Wait()
	var won []int
	for i, err := range errs {
		switch {
		case err == nil:
			won = append(won, i)
		case !errors.Is(err, os.ErrExist):
			t.Errorf("writer %d: %v", i, err)
		}
	}
	if len(won) != 1 {
		t.Fatalf("%d writers won, want 1", len(won))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string([]byte{'a' + byte(won[0])}) {
		t.Fatalf("file holds %q, written by writer %d", b, won[0])
	}
	if got := dirNames(t, dir); !equal(got, []string{"secret"}) {
		t.Fatalf("directory holds %q (no temp file may stay)", got)
	}
}

func TestSyncDir(t *testing.T) {
	if err := SyncDir(t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if err := SyncDir(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("SyncDir of a missing directory = %v", err)
	}
}
