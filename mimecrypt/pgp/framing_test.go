package pgp

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// framing walks the packets of b (new format headers) and returns, for each,
// its tag and the partial lengths it is cut into (the powers of two, then
// the final length).
func framing(t *testing.T, b []byte) []string {
	t.Helper()
	var out []string
	for len(b) > 0 {
		if b[0]&0xc0 != 0xc0 {
			t.Fatalf("packet header %x not in the new format", b[0])
		}
		desc := fmt.Sprintf("tag %d:", b[0]&0x3f)
		b = b[1:]
		for {
			if len(b) == 0 {
				t.Fatal("truncated packet")
			}
			l := int(b[0])
			switch {
			case l < 192:
				b = b[1:]
			case l < 224:
				l = (l-192)<<8 + int(b[1]) + 192
				b = b[2:]
			case l == 255:
				l = int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4])
				b = b[5:]
			default: // partial
				desc += fmt.Sprintf(" 2^%d", l&0x1f)
				b = b[1+(1<<(l&0x1f)):]
				continue
			}
			if tag := desc[:6]; tag == "tag 2:" || tag == "tag 18" {
				// A signature's length varies with its MPIs' leading
				// zeros, and so does the last part of the encrypted
				// packet that holds it.
				desc += " (varies)"
			} else {
				desc += fmt.Sprintf(" %d", l)
			}
			b = b[l:]
			break
		}
		out = append(out, desc)
	}
	return out
}

// TestFramingFollowsLengthOnly seals entities of one canonical length, given
// in parts of different sizes and with different line ends, and checks that
// the encrypted body and the signed literal data inside it are framed alike:
// the length of what a subscriber receives tells nothing of the post's
// lines or parts (a cover dummy padded to a real copy's bucket is as long
// as the copy).
func TestFramingFollowsLengthOnly(t *testing.T) {
	list := newKey(t, "team@lists.example.test", "curve25519", false)
	const n = 3*evenBlock + 12345
	crlf := strings.Repeat("x", 40) + "\r\n"
	a := []byte("Subject: a\r\n\r\n" + strings.Repeat(crlf, (n-100)/len(crlf)))
	a = append(a, bytes.Repeat([]byte("y"), n-len(a))...)
	// The same length once canonical: bare LFs (each one byte short) and a
	// different cut between header and body.
	lf := strings.Repeat("z", 200) + "\n"
	b := []byte("Subject: a longer subject for the other post\n\n" + strings.Repeat(lf, 300))
	canon := len(b) + bareLFs(b)
	b = append(b, bytes.Repeat([]byte("w"), n-canon)...)
	if got := len(b) + bareLFs(b); got != n || len(a) != n {
		t.Fatalf("lengths %d and %d, want %d", len(a), got, n)
	}
	var shapes [][]string
	for _, parts := range [][][]byte{
		{a},
		{a[:14], a[14:]},
		{b[:47], b[47:]},
		{b[:1], b[1:70000], b[70000:]},
	} {
		s, err := SealParts(parts, list, nil)
		if err != nil {
			t.Fatal(err)
		}
		outer := framing(t, s.v1.packet)
		p, err := packet.Read(bytes.NewReader(s.v1.packet))
		if err != nil {
			t.Fatal(err)
		}
		r, err := p.(*packet.SymmetricallyEncrypted).Decrypt(sealCipher, s.v1.key)
		if err != nil {
			t.Fatal(err)
		}
		inner, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		shapes = append(shapes, append(framing(t, inner), outer...))
	}
	for i, s := range shapes[1:] {
		if !slices.Equal(s, shapes[0]) {
			t.Errorf("entity %d framed\n%v\nthe first\n%v", i+1, s, shapes[0])
		}
	}
}
