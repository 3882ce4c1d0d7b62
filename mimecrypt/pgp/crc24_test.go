package pgp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// TestForArmorChecksum checks that every copy For writes ends its armor
// with the CRC-24 line that go-crypto's own encoder computes for the same
// bytes, for bodies of several sizes and batches of several recipients
// (key packets of different lengths), and that the decoder, which checks
// the checksum when present, reads it.
func TestForArmorChecksum(t *testing.T) {
	list := newKey(t, listAddr, "curve25519", false)
	a, b := newKey(t, "a@subs.test", "curve25519", false), newKey(t, "b@subs.test", "rsa3072", false)
	for _, size := range []int{0, 1, 47, 48, 1000, 70000} {
		inner := []byte("Content-Type: text/plain\r\n\r\n" + strings.Repeat("x", size) + "\r\n")
		s, err := Seal(inner, list, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, ents := range [][]*openpgp.Entity{{a}, {b}, {a, b}} {
			out, err := s.For(ents...)
			if err != nil {
				t.Fatal(err)
			}
			blk := armoredBlock(t, out)
			lines := strings.Split(strings.TrimRight(string(blk), "\r\n"), "\r\n")
			sum := lines[len(lines)-2]
			if !strings.HasPrefix(sum, "=") || len(sum) != 5 {
				t.Fatalf("size %d, %d recipients: no checksum line before the end line, got %q", size, len(ents), sum)
			}
			d, err := armor.Decode(bytes.NewReader(blk))
			if err != nil {
				t.Fatal(err)
			}
			var bin bytes.Buffer
			if _, err := bin.ReadFrom(d.Body); err != nil {
				t.Fatalf("size %d, %d recipients: decoder refuses the armor: %v", size, len(ents), err)
			}
			var want bytes.Buffer
			w, _ := armor.EncodeWithChecksumOption(&want, "PGP MESSAGE", nil, true)
			w.Write(bin.Bytes())
			w.Close()
			wl := strings.Split(strings.TrimRight(want.String(), "\n"), "\n")
			if got := wl[len(wl)-2]; got != sum {
				t.Errorf("size %d, %d recipients: checksum %q, go-crypto computes %q", size, len(ents), sum, got)
			}
		}
	}
}
