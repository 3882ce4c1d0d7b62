package seal

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestSealOpen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "queue-key")
	if err := Generate(path); err != nil {
		t.Fatal(err)
	}
	if err := Generate(path); err == nil {
		t.Fatal("Generate overwrote a key")
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file mode %v", fi.Mode())
	}
	k, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	pt := []byte("PLAINTEXT-MARKER of an encrypted post")
	s := k.Seal(pt, []byte("entry-1"))
	if bytes.Contains(s, []byte("PLAINTEXT-MARKER")) {
		t.Fatal("sealed bytes contain the plaintext")
	}
	got, err := k.Open(s, []byte("entry-1"))
	if err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("open: %q %v", got, err)
	}
	if _, err := k.Open(s, []byte("entry-2")); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened under another entry id: %v", err)
	}
	s[len(s)-1] ^= 1
	if _, err := k.Open(s, []byte("entry-1")); !errors.Is(err, ErrOpen) {
		t.Fatalf("opened a damaged body: %v", err)
	}
	other, _ := NewKey(make([]byte, 32))
	if _, err := other.Open(k.Seal(pt, nil), nil); !errors.Is(err, ErrOpen) || other.ID() == k.ID() {
		t.Fatalf("another key opened it: %v", err)
	}
}

func TestLoadFromCredentials(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(""); !errors.Is(err, ErrNoKey) && os.Getenv("CREDENTIALS_DIRECTORY") == "" {
		t.Fatalf("no key configured: %v", err)
	}
	t.Setenv("CREDENTIALS_DIRECTORY", dir)
	if _, err := Load(""); !errors.Is(err, ErrNoKey) {
		t.Fatalf("missing credential: %v", err)
	}
	Generate(filepath.Join(dir, "queue-key"))
	if _, err := Load(""); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "bad"), []byte("zz"), 0o600)
	if _, err := Load(filepath.Join(dir, "bad")); err == nil {
		t.Fatal("accepted a non-hex key")
	}
}
