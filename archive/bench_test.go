package archive

import (
	"bytes"
	"path/filepath"
	"testing"
	"time"
)

// BenchmarkEncrypt50KB: archiving a 50 KB post of an encrypted list.
func BenchmarkEncrypt50KB(b *testing.B) {
	key := archiveKey(b)
	msg := append(post(0, "\n"), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"), 800)...)
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Encrypt(msg, key, t0); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecrypt50KB: reading one back (get N, export).
func BenchmarkDecrypt50KB(b *testing.B) {
	key := archiveKey(b)
	msg := append(post(0, "\n"), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"), 800)...)
	stored, err := Encrypt(msg, key, t0)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := Decrypt(stored, key); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkEntries1000: numbering an archive of 1,000 messages (index, get).
func BenchmarkEntries1000(b *testing.B) {
	s := &Store{Dir: filepath.Join(b.TempDir(), "team@lists.test")}
	for i := range 1000 {
		if _, err := s.Append(id(t0.Add(time.Duration(i)*time.Minute), i%20), post(i%20, "\n"), nil, t0); err != nil {
			b.Fatal(err)
		}
	}
	for b.Loop() {
		if es, err := s.Entries(); err != nil || len(es) != 1000 {
			b.Fatal(len(es), err)
		}
	}
}

// BenchmarkAppendEncrypted25MB: archiving a 25 MB post of an encrypted
// list into the Maildir (B/op: what the archive runner holds beside the
// post).
func BenchmarkAppendEncrypted25MB(b *testing.B) {
	key := archiveKey(b)
	msg := append(post(0, "\n"), bytes.Repeat([]byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde\n"), 25<<20/64)...)
	s := &Store{Dir: filepath.Join(b.TempDir(), "team@lists.test")}
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		if _, err := s.Append(id(t0, 0), msg, key, t0); err != nil {
			b.Fatal(err)
		}
	}
}
