package gnupg

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// ReencodeSignature adds a subpacket to the unhashed area of the first
// OpenPGP signature armored in msg and writes the packet back in the other
// header format. The signature still verifies (the unhashed area is not
// signed), but its bytes, and so a digest of them, are new.
func ReencodeSignature(t testing.TB, msg string) string {
	t.Helper()
	const begin, end = "-----BEGIN PGP SIGNATURE-----", "-----END PGP SIGNATURE-----"
	i, j := strings.Index(msg, begin), strings.Index(msg, end)
	if i < 0 || j < i {
		t.Fatalf("no armored signature in:\n%s", msg)
	}
	old := msg[i : j+len(end)]
	blk, err := armor.Decode(strings.NewReader(old))
	if err != nil {
		t.Fatal(err)
	}
	bin, err := io.ReadAll(blk.Body)
	if err != nil {
		t.Fatal(err)
	}
	if p, err := packet.Read(bytes.NewReader(bin)); err != nil {
		t.Fatal(err)
	} else if _, ok := p.(*packet.Signature); !ok {
		t.Fatalf("first packet is %T", p)
	}
	body, rest := packetBody(t, bin)
	if body[0] != 4 {
		t.Fatalf("signature version %d, want 4", body[0])
	}
	hashed := int(body[4])<<8 | int(body[5])
	at := 6 + hashed
	unhashed := int(body[at])<<8 | int(body[at+1])
	// A non-critical subpacket of a private type (RFC 9580 5.2.3.7): ignored
	// by readers, so the signature still verifies.
	sub := []byte{5, 101, 'c', 'a', 'f', 'e'}
	var nb []byte
	nb = append(nb, body[:at]...)
	nb = append(nb, byte((unhashed+len(sub))>>8), byte(unhashed+len(sub)))
	nb = append(nb, body[at+2:at+2+unhashed]...)
	nb = append(nb, sub...)
	nb = append(nb, body[at+2+unhashed:]...)
	var pkt bytes.Buffer
	pkt.WriteByte(0xC0 | 2) // new format, tag 2 (signature)
	if len(nb) < 192 {
		pkt.WriteByte(byte(len(nb)))
	} else {
		pkt.Write([]byte{255, byte(len(nb) >> 24), byte(len(nb) >> 16), byte(len(nb) >> 8), byte(len(nb))})
	}
	pkt.Write(nb)
	pkt.Write(rest)
	p, err := packet.Read(bytes.NewReader(pkt.Bytes()))
	if err != nil {
		t.Fatalf("re-encoded signature does not parse: %v", err)
	}
	if _, ok := p.(*packet.Signature); !ok || bytes.Equal(pkt.Bytes(), bin) {
		t.Fatal("re-encoding changed nothing")
	}
	var out bytes.Buffer
	w, err := armor.Encode(&out, "PGP SIGNATURE", nil)
	if err != nil {
		t.Fatal(err)
	}
	w.Write(pkt.Bytes())
	w.Close()
	return strings.Replace(msg, old, strings.TrimSpace(out.String()), 1)
}

// packetBody splits the first OpenPGP packet of b into its body and what
// follows, for either header format.
func packetBody(t testing.TB, b []byte) (body, rest []byte) {
	t.Helper()
	tag := b[0]
	if tag&0x80 == 0 {
		t.Fatal("not an OpenPGP packet")
	}
	var n, h int
	if tag&0x40 == 0 { // old format
		switch tag & 3 {
		case 0:
			n, h = int(b[1]), 2
		case 1:
			n, h = int(b[1])<<8|int(b[2]), 3
		case 2:
			n, h = int(b[1])<<24|int(b[2])<<16|int(b[3])<<8|int(b[4]), 5
		default:
			t.Fatal("indeterminate length")
		}
	} else {
		switch o := int(b[1]); {
		case o < 192:
			n, h = o, 2
		case o < 224:
			n, h = (o-192)<<8+int(b[2])+192, 3
		case o == 255:
			n, h = int(b[2])<<24|int(b[3])<<16|int(b[4])<<8|int(b[5]), 6
		default:
			t.Fatal("partial length")
		}
	}
	return b[h : h+n], b[h+n:]
}
