package pgp

import (
	"bytes"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// keyPacketReader is a Checker, or the refChecker it replaced.
type keyPacketReader interface {
	KeyPacketIDs(msg []byte) ([]uint64, error)
}

// streamingChecker reads a message through ReadKeyPacketIDs, a line at a
// time, as the egress gate reads a large copy.
type streamingChecker struct{ c *Checker }

func (s streamingChecker) KeyPacketIDs(msg []byte) ([]uint64, error) {
	return s.c.ReadKeyPacketIDs(&overwritingLines{rest: msg})
}

// BenchmarkCheckerLarge: a Checker reading the copies of a 25 MB post for
// recipients whose key packets differ in size (so the encrypted data lies
// at two alignments in the armor), as the egress gate of one session does:
// B/op, and heldMB, the heap the Checker keeps between copies; "streamed"
// reads each copy a line at a time (ReadKeyPacketIDs), walking it every
// time; "before" is the refChecker.
func BenchmarkCheckerLarge(b *testing.B) {
	list := newKey(b, "team@lists.example.test", "curve25519", false)
	var copies [][]byte
	sealed, err := Seal(append([]byte("Content-Type: text/plain\r\n\r\n"), bytes.Repeat([]byte("a line of the post, 32 bytes...\r\n"), 25<<20/33)...), list, nil)
	if err != nil {
		b.Fatal(err)
	}
	for _, k := range []*openpgp.Entity{newKey(b, "ann@subs.test", "curve25519", false), newKey(b, "bob@subs.test", "rsa3072", false)} {
		msg, err := sealed.For(k)
		if err != nil {
			b.Fatal(err)
		}
		i := bytes.Index(msg, []byte("-----BEGIN PGP MESSAGE-----"))
		j := bytes.Index(msg, []byte("-----END PGP MESSAGE-----"))
		copies = append(copies, msg[i:j+len("-----END PGP MESSAGE-----")])
	}
	for _, impl := range []struct {
		name string
		new  func() keyPacketReader
	}{
		{"now", func() keyPacketReader { return new(Checker) }},
		{"streamed", func() keyPacketReader { return streamingChecker{new(Checker)} }},
		{"before", func() keyPacketReader { return new(refChecker) }},
	} {
		b.Run(impl.name, func(b *testing.B) {
			var base, held runtime.MemStats
			runtime.GC()
			runtime.ReadMemStats(&base)
			c := impl.new()
			b.ReportAllocs()
			b.SetBytes(int64(len(copies[0])))
			n := 0
			for b.Loop() {
				if _, err := c.KeyPacketIDs(copies[n%len(copies)]); err != nil {
					b.Fatal(err)
				}
				n++
			}
			runtime.GC()
			runtime.ReadMemStats(&held)
			b.ReportMetric(float64(int64(held.HeapInuse)-int64(base.HeapInuse))/(1<<20), "heldMB")
			runtime.KeepAlive(c)
		})
	}
}

// FuzzCheckerAsBefore: a Checker that has read other messages answers a
// message as a fresh refChecker does (an error, or the same key IDs),
// whether it walks the message or remembers it.
func FuzzCheckerAsBefore(f *testing.F) {
	list := newKey(f, "team@lists.example.test", "curve25519", false)
	ann := newKey(f, "ann@subs.test", "curve25519", false)
	seeds := sealedArmors(f, list, []*openpgp.Entity{ann}, []*openpgp.Entity{ann, list})
	for _, a := range seeds {
		f.Add(a)
	}
	f.Add([]byte("-----BEGIN PGP MESSAGE-----\n\nwcBMA/////8=\n-----END PGP MESSAGE-----"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		c := new(Checker)
		for _, s := range seeds {
			c.KeyPacketIDs(s)
		}
		want, werr := new(refChecker).KeyPacketIDs(msg)
		for i := range 2 { // walked, then remembered
			got, err := c.KeyPacketIDs(msg)
			if (err == nil) != (werr == nil) || err == nil && !slices.Equal(got, want) {
				t.Fatalf("pass %d: %x %v; before %x %v", i, got, err, want, werr)
			}
		}
	})
}

// TestCheckerAsBeforeMutants: copies whose packets are cut, grown, or
// changed in a byte (then armored as Seal armors them, and with LF line
// ends) are answered by one Checker, walked and then remembered, as a
// fresh refChecker answers them.
func TestCheckerAsBeforeMutants(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	bob := newKey(t, "bob@subs.test", "rsa3072", false)
	sealed, err := Seal([]byte(testPost), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	var bins [][]byte
	for _, to := range [][]*openpgp.Entity{{ann}, {bob}, {ann, bob}} {
		msg, err := sealed.For(to...)
		if err != nil {
			t.Fatal(err)
		}
		bins = append(bins, dearmorT(t, armorOf(t, msg)))
	}
	r := rand.New(rand.NewPCG(1, 2))
	c := new(Checker)
	accepted := 0
	for i := range 3000 {
		msg := mutant(r, bins, i)
		want, werr := new(refChecker).KeyPacketIDs(msg)
		for pass := range 2 {
			got, err := c.KeyPacketIDs(msg)
			if (err == nil) != (werr == nil) || err == nil && !slices.Equal(got, want) {
				t.Fatalf("mutant %d, pass %d: %x %v; before %x %v", i, pass, got, err, want, werr)
			}
		}
		if werr == nil {
			accepted++
		}
	}
	if accepted == 0 || accepted == 3000 {
		t.Fatalf("%d of 3000 mutants accepted: the mutants test nothing", accepted)
	}
	t.Logf("%d of 3000 mutants accepted", accepted)
}

// mutant returns copy i%len(bins) of the binary messages bins, cut, grown
// by the start of another, or changed in one to three bits, armored as For
// armors it, with LF line ends one time in two.
func mutant(r *rand.Rand, bins [][]byte, i int) []byte {
	bin := append([]byte{}, bins[i%len(bins)]...)
	switch r.IntN(4) {
	case 0:
		bin = bin[:r.IntN(len(bin)+1)]
	case 1:
		bin = append(bin, bins[r.IntN(len(bins))][:r.IntN(64)]...)
	default:
		for range r.IntN(3) + 1 {
			bin[r.IntN(len(bin))] ^= byte(1 << r.IntN(8))
		}
	}
	msg := ours(bin)
	if r.IntN(2) == 0 {
		msg = bytes.ReplaceAll(msg, []byte("\r\n"), []byte("\n"))
	}
	return msg
}
