package pgp

import (
	"bytes"
	"fmt"
	"io"
	"runtime"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// benchPost returns a MIME entity with a body of about size bytes.
func benchPost(size int) []byte {
	var b bytes.Buffer
	b.WriteString("Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 7bit\r\n\r\n")
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, "line %06d of a fifty-kilobyte post to an encrypted mailing list.\r\n", i)
	}
	return b.Bytes()
}

// benchFanout seals one 50 KB post and makes one message per subscriber,
// reporting subscribers per second.
func benchFanout(b *testing.B, algo string) {
	list := newKey(b, "team@lists.example.test", "curve25519", false)
	subs := make([]*openpgp.Entity, 4)
	for i := range subs {
		subs[i] = newKey(b, fmt.Sprintf("s%d@subs.test", i), algo, false)
	}
	sealed, err := Seal(benchPost(50<<10), list, nil)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := sealed.For(subs[0]); err != nil { // encrypt the shared body outside the timing
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := sealed.For(subs[i%len(subs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "subscribers/s")
}

// benchWriteFor is benchFanout through WriteFor into io.Discard (no
// per-subscriber copy of the shared body).
func benchWriteFor(b *testing.B, algo string) {
	list := newKey(b, "team@lists.example.test", "curve25519", false)
	sub := newKey(b, "s0@subs.test", algo, false)
	sealed, err := Seal(benchPost(50<<10), list, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := sealed.WriteFor(io.Discard, sub); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := sealed.WriteFor(io.Discard, sub); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "subscribers/s")
}

// BenchmarkWriteForCurve25519 measures WriteFor for Curve25519 keys.
func BenchmarkWriteForCurve25519(b *testing.B) { benchWriteFor(b, "curve25519") }

// BenchmarkFanoutCurve25519 measures the per-subscriber cost of the outgoing
// path for Curve25519 subscriber keys (goal: 20,000 subscribers/s per core).
func BenchmarkFanoutCurve25519(b *testing.B) { benchFanout(b, "curve25519") }

// BenchmarkFanoutRSA3072 is the same for RSA-3072 subscriber keys.
func BenchmarkFanoutRSA3072(b *testing.B) { benchFanout(b, "rsa3072") }

// BenchmarkSeal measures signing and encrypting one 50 KB post once.
func BenchmarkSeal(b *testing.B) {
	list := newKey(b, "team@lists.example.test", "curve25519", false)
	sub := newKey(b, "s0@subs.test", "curve25519", false)
	post := benchPost(50 << 10)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		s, err := Seal(post, list, nil)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := s.For(sub); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkKeyPacketCurve25519 measures one bare PKESK for a Curve25519
// key: the floor of the per-subscriber cost, to compare with
// BenchmarkFanoutCurve25519 run alongside on the same machine.
func BenchmarkKeyPacketCurve25519(b *testing.B) {
	sub := newKey(b, "s0@subs.test", "curve25519", false)
	k, _, err := EncryptionKey(sub, sub.PrimaryKey.CreationTime.Add(1), nil)
	if err != nil {
		b.Fatal(err)
	}
	key := make([]byte, 32)
	var buf bytes.Buffer
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		buf.Reset()
		if err := packet.SerializeEncryptedKey(&buf, k.PublicKey, packet.CipherAES256, key, nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "packets/s")
}

// BenchmarkLargePostCopy makes the copies of a 25 MB post (past the armor
// cache budget) as the outgoing runner sends them: PiecesFor, then the
// shared armor written in chunks into io.Discard. It reports the bytes
// allocated per copy (the goal: a small fraction of the post, whatever
// the number of copies) and, for Seal, the bytes allocated over the
// post's size.
func BenchmarkLargePostCopy(b *testing.B) {
	list := newKey(b, "team@lists.example.test", "curve25519", false)
	sub := newKey(b, "s0@subs.test", "curve25519", false)
	post := benchPost(25 << 20)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	sealed, err := SealParts([][]byte{post[:100], post[100:]}, list, nil)
	if err != nil {
		b.Fatal(err)
	}
	runtime.ReadMemStats(&after)
	sealAlloc := float64(after.TotalAlloc-before.TotalAlloc) / float64(len(post))
	b.ResetTimer()
	runtime.ReadMemStats(&before)
	for b.Loop() {
		p, err := sealed.PiecesFor(sub)
		if err != nil {
			b.Fatal(err)
		}
		if err := p.WriteShared(io.Discard); err != nil {
			b.Fatal(err)
		}
	}
	runtime.ReadMemStats(&after)
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/float64(b.N), "alloc-B/copy")
	b.ReportMetric(sealAlloc, "seal-alloc-x-post")
}
