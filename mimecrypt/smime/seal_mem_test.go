package smime

import (
	"bytes"
	"testing"
)

// BenchmarkSealFor25MB: sealing a 25 MB post and making one copy for an
// RSA subscriber (B/op: the encodings the Sealed keeps for the fan-out).
func BenchmarkSealFor25MB(b *testing.B) {
	p := thePKI(b)
	post := append([]byte(postEntity), bytes.Repeat([]byte("a line of the post, 32 bytes...\r\n"), 25<<20/33)...)
	b.ReportAllocs()
	for b.Loop() {
		sealed, err := Seal(post, SealOptions{})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := sealed.For(p.m["alice"].cert); err != nil {
			b.Fatal(err)
		}
	}
}
