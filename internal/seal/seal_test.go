package seal

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
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

// testKey is a fixed key for the format tests.
func testKey(t testing.TB, b byte) *Key {
	t.Helper()
	k, err := NewKey(bytes.Repeat([]byte{b}, 32))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestFormat1 opens a body sealed by the release before format 2
// (testdata/format1.sealed: key 32 bytes of 0x07), as entries queued before
// an upgrade are.
func TestFormat1(t *testing.T) {
	sealed, err := os.ReadFile("testdata/format1.sealed")
	if err != nil {
		t.Fatal(err)
	}
	want := "Subject: format 1\r\n\r\n" + strings.Repeat("a line of a post sealed by the release before format 2\r\n", 300)
	id := []byte("1700000000000000000+format1")
	got, err := testKey(t, 7).Open(bytes.Clone(sealed), id)
	if err != nil || string(got) != want {
		t.Fatalf("format 1: %v (%d bytes)", err, len(got))
	}
	for name, s := range map[string][]byte{
		"other id":  nil,
		"flipped":   flip(sealed, len(sealed)/2),
		"cut":       sealed[:len(sealed)-1],
		"no nonce":  sealed[:len(magic)+3],
		"other key": sealed,
	} {
		k, ad := testKey(t, 7), id
		switch name {
		case "other id":
			s, ad = sealed, []byte("1700000000000000000+format2")
		case "other key":
			k = testKey(t, 8)
		}
		if _, err := k.Open(bytes.Clone(s), ad); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: opened (%v)", name, err)
		}
	}
}

func flip(b []byte, i int) []byte {
	c := bytes.Clone(b)
	c[i] ^= 0x40
	return c
}

// TestSealSizes seals bodies around the chunk boundaries with Seal and with
// NewSealer (read a byte at a time), and opens each in place.
func TestSealSizes(t *testing.T) {
	k := testKey(t, 1)
	id := []byte("entry")
	for _, n := range []int{0, 1, ChunkSize - 1, ChunkSize, ChunkSize + 1, 2 * ChunkSize, 3*ChunkSize + 5} {
		pt := make([]byte, n)
		for i := range pt {
			pt[i] = byte(i*7 + i/ChunkSize)
		}
		whole := k.Seal(pt, id)
		streamed, err := io.ReadAll(k.NewSealer(iotest.OneByteReader(bytes.NewReader(pt)), id))
		if err != nil {
			t.Fatalf("%d: sealer: %v", n, err)
		}
		if len(whole) != SealedSize(n) || len(streamed) != SealedSize(n) {
			t.Fatalf("%d: sealed %d and %d bytes, SealedSize says %d", n, len(whole), len(streamed), SealedSize(n))
		}
		if bytes.Equal(whole[:header2], streamed[:header2]) {
			t.Fatalf("%d: two seals share a salt", n)
		}
		for name, s := range map[string][]byte{"Seal": whole, "NewSealer": streamed} {
			got, err := k.Open(s, id)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("%d %s: open: %v", n, name, err)
			}
			if n > 0 && &got[0] != &s[0] {
				t.Fatalf("%d %s: Open did not decrypt in place", n, name)
			}
		}
	}
}

// TestSealAttacks changes a sealed body of three chunks the ways an attacker
// with write access to the queue could; none opens.
func TestSealAttacks(t *testing.T) {
	k := testKey(t, 2)
	id := []byte("1700000000000000000+attack")
	pt := bytes.Repeat([]byte("PLAINTEXT-MARKER "), 3*ChunkSize/17+100)
	s := k.Seal(pt, id)
	c := ChunkSize + tagSize
	chunk := func(i int) []byte { return s[header2+i*c : min(header2+(i+1)*c, len(s))] }
	join := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	head := s[:header2]
	other := testKey(t, 2).Seal(pt, id)
	cases := map[string][]byte{
		"cut at a chunk boundary": s[:header2+2*c],
		"cut inside a chunk":      s[:header2+c+100],
		"last chunk dropped":      join(head, chunk(0), chunk(1), chunk(2)),
		"middle chunk dropped":    join(head, chunk(0), chunk(2), chunk(3)),
		"chunks swapped":          join(head, chunk(1), chunk(0), chunk(2), chunk(3)),
		"chunk repeated":          join(head, chunk(0), chunk(0), chunk(1), chunk(2), chunk(3)),
		"byte appended":           join(s, []byte{0}),
		"salt flipped":            flip(s, len(magic2)+3),
		"tag flipped":             flip(s, header2+c-1),
		"ciphertext flipped":      flip(s, header2+c+5),
		"wrong magic":             join([]byte("CLOISTER-SEALED-3\n"), s[len(magic2):]),
		"header only":             head,
		"empty":                   {},
		"chunk from another seal": join(head, chunk(0), other[header2+c:header2+2*c], chunk(2), chunk(3)),
	}
	for name, b := range cases {
		if _, err := k.Open(bytes.Clone(b), id); !errors.Is(err, ErrOpen) {
			t.Errorf("%s: opened (%v)", name, err)
		}
	}
	if _, err := k.Open(bytes.Clone(s), []byte("1700000000000000000+other")); !errors.Is(err, ErrOpen) {
		t.Errorf("opened under another entry id: %v", err)
	}
	if _, err := testKey(t, 3).Open(bytes.Clone(s), id); !errors.Is(err, ErrOpen) {
		t.Errorf("opened with another key: %v", err)
	}
	if bytes.Contains(s, []byte("PLAINTEXT-MARKER")) {
		t.Error("sealed bytes contain the plaintext")
	}
	if got, err := k.Open(s, id); err != nil || !bytes.Equal(got, pt) {
		t.Fatalf("the untouched body: %v", err)
	}
}

// TestSealerReadError: an error reading the body ends the sealed stream with
// it, never with a short body that looks whole.
func TestSealerReadError(t *testing.T) {
	boom := errors.New("disk gone")
	r := io.MultiReader(bytes.NewReader(make([]byte, ChunkSize+10)), iotest.ErrReader(boom))
	b, err := io.ReadAll(testKey(t, 4).NewSealer(r, nil))
	if !errors.Is(err, boom) {
		t.Fatalf("read error: %v", err)
	}
	if _, err := testKey(t, 4).Open(b, nil); !errors.Is(err, ErrOpen) {
		t.Fatalf("the part sealed before the error opened: %v", err)
	}
}

// FuzzOpen: Open never panics on any bytes, and what it opens round-trips.
func FuzzOpen(f *testing.F) {
	k := testKey(f, 5)
	f.Add(k.Seal([]byte("hello"), []byte("id")))
	f.Add(k.Seal(make([]byte, ChunkSize+3), []byte("id")))
	f.Add([]byte("CLOISTER-SEALED-1\nshort"))
	f.Add([]byte("CLOISTER-SEALED-2\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pt, err := k.Open(b, []byte("id"))
		if err != nil && !errors.Is(err, ErrOpen) {
			t.Fatalf("error not ErrOpen: %v", err)
		}
		if err == nil {
			if got, err := k.Open(k.Seal(pt, []byte("id")), []byte("id")); err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("round trip: %v", err)
			}
		}
	})
}
