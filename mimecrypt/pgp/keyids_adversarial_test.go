package pgp

import (
	"bytes"
	"encoding/base64"
	"testing"
)

// markerPacket is an OpenPGP marker packet (RFC 9580 5.8).
var markerPacket = []byte{0xca, 0x03, 'P', 'G', 'P'}

// TestCheckerMemoryUnambiguous: a Checker remembers the encrypted data it
// walked by its decoded head and its armored rest; a copy whose head is
// shorter and whose rest begins with the other's tail (after a NUL) must
// not be taken for the same data. Copy B below is refused by a fresh
// Checker (a NUL in its armor); a Checker that walked copy A first must
// refuse it too, inline (small data) and by hash (over verifiedInline).
func TestCheckerMemoryUnambiguous(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	sealed, err := Seal([]byte(testPost), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := sealed.For(ann)
	if err != nil {
		t.Fatal(err)
	}
	bin := dearmorT(t, armorOf(t, msg))
	prefix := append([]byte{}, bin[:keyPacketEnd(t, bin)]...)
	for (len(prefix)+6)%3 != 0 {
		prefix = append(prefix, markerPacket...)
	}
	for name, chunkExp := range map[string]byte{"inline": 4, "hashed": 20} {
		t.Run(name, func(t *testing.T) {
			// The SEIPD: a partial first chunk of 2^chunkExp bytes, then
			// a final chunk of length 0.
			hB := []byte{0xd2, 0xe0 | chunkExp, 0x01, 0xaa, 0xbb, 0xcc}
			x := []byte("QU")
			chunk := 1 << chunkExp
			tail := make([]byte, chunk-(len(hB)-2)-1-len(x)) // the chunk's rest
			tail = append(tail, 0x00)                        // the final length
			armored := func(first []byte, rest []byte) []byte {
				b := []byte("-----BEGIN PGP MESSAGE-----\n\n")
				b = append(b, base64.StdEncoding.EncodeToString(first)...)
				b = append(b, '\n')
				b = append(b, rest...)
				return append(b, "\n-----END PGP MESSAGE-----"...)
			}
			restA := bytes.TrimRight(appendArmorLines(nil, tail, "\n"), "\n")
			a := armored(append(append(append(append([]byte{}, prefix...), hB...), 0x00), x...), restA)
			b := armored(append(append([]byte{}, prefix...), hB...), append(append(append([]byte{}, x...), 0x00), restA...))
			if _, err := new(Checker).KeyPacketIDs(a); err != nil {
				t.Fatalf("copy A refused: %v", err)
			}
			if ids, err := new(Checker).KeyPacketIDs(b); err == nil {
				t.Fatalf("copy B accepted by a fresh Checker: %x", ids)
			}
			c := new(Checker)
			if _, err := c.KeyPacketIDs(a); err != nil {
				t.Fatalf("copy A refused: %v", err)
			}
			if ids, err := c.KeyPacketIDs(b); err == nil {
				t.Fatalf("copy B accepted from the memory of copy A: %x", ids)
			}
		})
	}
}
