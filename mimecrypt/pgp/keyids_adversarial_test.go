package pgp

import (
	"bytes"
	"encoding/base64"
	"slices"
	"testing"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
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
	bin := dearmorT(t, sealedArmors(t, list, []*openpgp.Entity{ann})[0])
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

// newLengthBytes encodes a definite new-format body length.
func newLengthBytes(n int) []byte {
	switch {
	case n < 192:
		return []byte{byte(n)}
	case n < 8384:
		n -= 192
		return []byte{byte(n>>8) + 192, byte(n)}
	}
	return []byte{0xff, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)}
}

// TestCheckerRefusesCrafted: copies that hide something beside the one
// encrypted data packet, or whose armor a reader could take otherwise, are
// refused by a fresh Checker and by one that walked the good copy (its
// memory must not answer for them); the good copy in other line ends still
// passes.
func TestCheckerRefusesCrafted(t *testing.T) {
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
	good := armorOf(t, msg)
	bin := dearmorT(t, good)
	k := keyPacketEnd(t, bin)
	keys, seipd := bin[:k], bin[k:]
	_, hdr, n, _, err := packetHeader(seipd)
	if err != nil || hdr+n != len(seipd) {
		t.Fatalf("encrypted data packet: %d+%d of %d, %v", hdr, n, len(seipd), err)
	}
	body := seipd[hdr:]
	literal := []byte{0xcb, 0x10, 'b', 0, 0, 0, 0, 0, 'C', 'L', 'E', 'A', 'R', ' ', 'T', 'E', 'X', 'T'}
	compressed := []byte{0xc8, 0x0b, 0x00, 0xcb, 0x08, 'b', 0, 0, 0, 0, 0, 'C', 'L'}
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	// partial is the encrypted data in a 16-byte partial chunk, then the rest.
	partial := cat([]byte{0xd2, 0xe4}, body[:16], newLengthBytes(len(body)-16), body[16:])
	lines := bytes.Split(ours(bin), []byte("\r\n"))
	if len(lines) < 6 {
		t.Fatalf("only %d armor lines", len(lines))
	}
	// withLine replaces armor line i (2 is the first base64 line).
	withLine := func(i int, l string) []byte {
		ls := append([][]byte{}, lines...)
		ls[i] = []byte(l)
		return bytes.Join(ls, []byte("\r\n"))
	}
	mid := string(lines[3])
	crc := string(lines[len(lines)-2])
	refused := map[string][]byte{
		"a literal data packet before the encrypted data": ours(cat(keys, literal, seipd)),
		"a compressed packet before the encrypted data":   ours(cat(keys, compressed, seipd)),
		"a compressed packet after the encrypted data":    ours(cat(bin, compressed)),
		"two encrypted data packets":                      ours(cat(bin, seipd)),
		"a byte after the encrypted data":                 ours(cat(bin, []byte{0})),
		"a literal data packet after a partial chain":     ours(cat(keys, partial, literal)),
		"a partial chain that does not end":               ours(cat(keys, []byte{0xd2, 0xe4}, body[:16])),
		"a literal data packet only, after key packets":   ours(cat(keys, literal)),
		"padding in a middle line":                        withLine(3, mid[:len(mid)-4]+"AA=="),
		"'=' inside a middle line":                        withLine(3, mid[:8]+"===="+mid[12:]),
		"a space inside a line":                           withLine(3, mid[:8]+" "+mid[8:]),
		"a tab inside a line":                             withLine(3, mid[:8]+"\t"+mid[8:]),
		"a line that starts with a space":                 withLine(3, " "+mid),
		"a junk character in a line":                      withLine(3, mid[:8]+"!"+mid[9:]),
		"a NUL in a line":                                 withLine(3, mid[:8]+"\x00"+mid[9:]),
		"a checksum line in the middle":                   withLine(3, crc+"\r\n"+mid),
		"two checksum lines":                              withLine(len(lines)-2, crc+"\r\n"+crc),
		"a line after the checksum line":                  withLine(len(lines)-2, crc+"\r\n"+mid),
		"an end line, text, an end line": bytes.Replace(ours(bin), []byte("-----END PGP MESSAGE-----"),
			[]byte("-----END PGP MESSAGE-----\r\nCLEAR TEXT\r\n-----END PGP MESSAGE-----"), 1),
		"a second armor block": cat(ours(bin), []byte("\r\n"), ours(bin)),
	}
	passed := map[string][]byte{
		"as For armors it":                      good,
		"LF line ends":                          bytes.ReplaceAll(ours(bin), []byte("\r\n"), []byte("\n")),
		"CRLF and LF mixed":                     bytes.Replace(ours(bin), []byte("\r\n"), []byte("\n"), 4),
		"the encrypted data in a partial chain": ours(cat(keys, partial)),
		"trailing spaces and tabs":              bytes.ReplaceAll(ours(bin), []byte("\r\n"), []byte(" \t\r\n")),
	}
	passed["without its checksum line"] = bytes.Replace(ours(bin), []byte(crc+"\r\n"), nil, 1)
	warm := new(Checker)
	if _, err := warm.KeyPacketIDs(good); err != nil {
		t.Fatalf("good copy: %v", err)
	}
	for name, m := range refused {
		for _, c := range []*Checker{new(Checker), warm} {
			if ids, err := c.KeyPacketIDs(m); err == nil {
				t.Errorf("%s: accepted (warm %v), key IDs %x", name, c == warm, ids)
			}
		}
	}
	for name, m := range passed {
		for _, c := range []*Checker{new(Checker), warm} {
			if ids, err := c.KeyPacketIDs(m); err != nil || len(ids) != 1 {
				t.Errorf("%s: refused (warm %v): %x %v", name, c == warm, ids, err)
			}
		}
	}
}

// TestCheckerRefusesTextOutsideTheEncryption: nothing our copies hold
// outside the encryption may carry text: a padding packet (which we never
// write), a marker packet whose body is not "PGP", or an armor header
// (For writes none) is refused; a proper marker packet passes.
func TestCheckerRefusesTextOutsideTheEncryption(t *testing.T) {
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
	good := armorOf(t, msg)
	bin := dearmorT(t, good)
	k := keyPacketEnd(t, bin)
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	text := []byte("CLEAR TEXT of the post")
	padding := cat([]byte{0xd5, byte(len(text))}, text)
	marker := cat([]byte{0xca, byte(len(text))}, text)
	header := func(h string) []byte {
		return bytes.Replace(good, []byte("-----BEGIN PGP MESSAGE-----\r\n"), []byte("-----BEGIN PGP MESSAGE-----\r\n"+h+"\r\n"), 1)
	}
	warm := new(Checker)
	if _, err := warm.KeyPacketIDs(good); err != nil {
		t.Fatalf("good copy: %v", err)
	}
	for name, m := range map[string][]byte{
		"a padding packet before the key packets":    ours(cat(padding, bin)),
		"a padding packet after the key packets":     ours(cat(bin[:k], padding, bin[k:])),
		"a marker packet holding text":               ours(cat(marker, bin)),
		"a marker packet holding PGP and more":       ours(cat([]byte{0xca, 0x04, 'P', 'G', 'P', 'X'}, bin)),
		"an armor comment holding text":              header("Comment: " + string(text)),
		"an armor version header":                    header("Version: 1"),
		"an armor header holding text, LF line ends": bytes.ReplaceAll(header("Comment: "+string(text)), []byte("\r\n"), []byte("\n")),
		"a legacy-format marker packet holding text": ours(cat([]byte{0xa8, byte(len(text))}, text, bin)),
	} {
		for _, c := range []*Checker{new(Checker), warm} {
			if ids, err := c.KeyPacketIDs(m); err == nil {
				t.Errorf("%s: accepted (warm %v), key IDs %x", name, c == warm, ids)
			}
		}
	}
	if ids, err := warm.KeyPacketIDs(ours(cat(markerPacket, bin))); err != nil || len(ids) != 1 {
		t.Errorf("a marker packet: %x %v", ids, err)
	}
}

// FuzzCheckerMemory: a Checker that has read message a answers message b
// as a fresh Checker does: its memory of a's encrypted data never answers
// for other bytes.
func FuzzCheckerMemory(f *testing.F) {
	list := newKey(f, "team@lists.example.test", "curve25519", false)
	ann := newKey(f, "ann@subs.test", "curve25519", false)
	copies := sealedArmors(f, list, []*openpgp.Entity{ann}, []*openpgp.Entity{ann, list})
	f.Add(copies[0], copies[1])
	f.Add(copies[1], bytes.ReplaceAll(copies[0], []byte("\r\n"), []byte("\n")))
	f.Add([]byte("-----BEGIN PGP MESSAGE-----\n\nwcBMA/////8=\n-----END PGP MESSAGE-----"), copies[0])
	f.Fuzz(func(t *testing.T, a, b []byte) {
		want, werr := new(Checker).KeyPacketIDs(b)
		c := new(Checker)
		c.KeyPacketIDs(a)
		got, err := c.KeyPacketIDs(b)
		if (err == nil) != (werr == nil) || err == nil && !slices.Equal(got, want) {
			t.Fatalf("after a: %x %v; fresh: %x %v", got, err, want, werr)
		}
	})
}

// TestCheckerRefusesTextAsLastLine: a last armor line that is not base64
// is refused, also when the packets before it are already whole (a short
// encrypted data packet in the last six bytes decoded before it).
func TestCheckerRefusesTextAsLastLine(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	bin := dearmorT(t, sealedArmors(t, list, []*openpgp.Entity{ann})[0])
	keys := append([]byte{}, bin[:keyPacketEnd(t, bin)]...)
	for (len(keys)+3)%3 != 0 {
		keys = append(keys, markerPacket...)
	}
	tiny := append(keys, 0xd2, 0x01, 0x01) // a SEIPD v1 of its version byte alone
	armored := func(last string) []byte {
		b := append([]byte("-----BEGIN PGP MESSAGE-----\r\n\r\n"), appendArmorLines(nil, tiny, "\r\n")...)
		if last != "" {
			b = append(b, last+"\r\n"...)
		}
		return append(b, "-----END PGP MESSAGE-----"...)
	}
	if _, err := new(Checker).KeyPacketIDs(armored("")); err != nil {
		t.Fatalf("the short packets alone: %v", err)
	}
	for _, last := range []string{"CLEAR TEXT OF THE POST", "CLEAR TEXT", "CLEAR!TEXT", "QUJD=QUJD", "Q\x00JD"} {
		for _, warm := range []bool{false, true} {
			c := new(Checker)
			if warm {
				c.KeyPacketIDs(armored(""))
			}
			if ids, err := c.KeyPacketIDs(armored(last)); err == nil {
				t.Errorf("last line %q: accepted (warm %v), key IDs %x", last, warm, ids)
			}
		}
	}
}
