package pgp

import (
	"bytes"
	"crypto/rand"
	"strings"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/testdirs"
	"cloister/mimecrypt"
)

// TestTailCacheBudget: the armored tails a sealed body keeps stay within
// tailCacheBudget; tails past it are armored per call, identical to the
// cached ones, and the copies still open.
func TestTailCacheBudget(t *testing.T) {
	testdirs.Slow(t, "seals 200 copies to go past the tail cache budget")
	packet := make([]byte, 10000)
	rand.Read(packet)
	for n := range 200 {
		if got, want := armoredLen(n), len(appendArmorLines(nil, packet[:n], "\r\n")); got != want {
			t.Fatalf("armoredLen(%d) = %d, want %d", n, got, want)
		}
	}
	old := tailCacheBudget
	t.Cleanup(func() { tailCacheBudget = old })
	tailCacheBudget = armoredLen(len(packet)) + armoredLen(len(packet)-1) // two tails fit, not three
	b := &body{packet: packet, tails: map[int][]byte{}}
	for _, skip := range []int{0, 1, 2, 0, 2, 3} {
		want := appendArmorLines(nil, packet[skip:], "\r\n")
		tail, rest := b.tail(skip)
		var streamed bytes.Buffer
		if err := writeArmorLines(&streamed, rest); err != nil {
			t.Fatal(err)
		}
		if got := append(tail, streamed.Bytes()...); !bytes.Equal(got, want) || (tail == nil) == (rest == nil) {
			t.Fatalf("tail(%d) differs from the armor of the packet (cached %v)", skip, tail != nil)
		}
		if b.cached > tailCacheBudget {
			t.Fatalf("cache holds %d bytes, budget %d", b.cached, tailCacheBudget)
		}
	}
	if len(b.tails) != 2 || b.tails[0] == nil || b.tails[1] == nil {
		t.Fatalf("cached tails for skips %v, want 0 and 1", keys(b.tails))
	}

	// With no budget at all, copies to keys of different sizes (different
	// alignments) are made and open.
	tailCacheBudget = 0
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	post := testPost + strings.Repeat("a longer line of a larger post, to span many armor lines\n", 500)
	sealed, err := Seal([]byte(post), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, algo := range []string{"curve25519", "rsa3072"} {
		sub := newKey(t, "s@subs.test", algo, false)
		msg, err := sealed.For(sub)
		if err != nil {
			t.Fatal(err)
		}
		var w bytes.Buffer
		if err := sealed.WriteFor(&w, sub); err != nil {
			t.Fatal(err)
		}
		for how, m := range map[string][]byte{"For": msg, "WriteFor": w.Bytes()} {
			res, err := Open(listMessage(m), OpenOptions{ListKeys: openpgp.EntityList{sub}, Senders: bound(list, listAddr)})
			if err != nil || res.Verdict != mimecrypt.VerdictGood || !bytes.Contains(res.Message, []byte("a longer line")) {
				t.Fatalf("%s copy made by %s without the cache: %v, %+v", algo, how, err, res)
			}
		}
	}
	if sealed.v1.cached != 0 || len(sealed.v1.tails) != 0 {
		t.Fatalf("tails cached past a zero budget: %d bytes", sealed.v1.cached)
	}
}

func keys(m map[int][]byte) []int {
	var out []int
	for k := range m {
		out = append(out, k)
	}
	return out
}
