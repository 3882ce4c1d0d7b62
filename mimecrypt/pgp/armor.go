package pgp

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
)

// armorLineBytes is the number of binary bytes on one armor line: 76 base64
// characters, the longest line RFC 9580 6.2 (and RFC 4880 6.3 before it)
// lets a writer emit. GnuPG writes 64; every reader takes either, and the
// longer lines make a copy 16% fewer lines for the MTA, which handles a
// message line by line (Postfix's smtpd and cleanup, smtp-sink).
const armorLineBytes = 57

// appendArmorLines appends the base64 lines of b (76 characters each, the
// last one shorter) to dst, each ending in nl. It needs len(b) to be a
// multiple of armorLineBytes, or b to be the end of the data.
func appendArmorLines(dst, b []byte, nl string) []byte {
	var line [76]byte
	for len(b) > 0 {
		n := min(len(b), armorLineBytes)
		m := base64.StdEncoding.EncodedLen(n)
		base64.StdEncoding.Encode(line[:m], b[:n])
		dst = append(dst, line[:m]...)
		dst = append(dst, nl...)
		b = b[n:]
	}
	return dst
}

// padForGnuPG re-encodes the header of the first packet in pk (a key packet,
// tag 1) so that pk plus rest bytes is not a multiple of 3 long. GnuPG 2.2
// finds the end of checksum-less armor only after a '=' (base64 padding or
// CRC-24 line); data a multiple of 3 bytes long has no padding. The old
// packet format with a 2- or 4-octet length is longer than the new-format
// header go-crypto writes, and every reader accepts it.
func padForGnuPG(pk []byte, rest int) ([]byte, error) {
	if (len(pk)+rest)%3 != 0 {
		return pk, nil
	}
	if len(pk) < 2 || pk[0]&0xc0 != 0xc0 {
		return nil, fmt.Errorf("key packet header %x is not in the new format", pk[:min(len(pk), 2)])
	}
	tag := pk[0] & 0x3f
	var h, n int // header length, body length
	switch l := int(pk[1]); {
	case l < 192:
		h, n = 2, l
	case l < 224:
		if len(pk) < 3 {
			return nil, fmt.Errorf("truncated key packet header")
		}
		h, n = 3, (l-192)<<8+int(pk[2])+192
	case l == 255:
		if len(pk) < 6 {
			return nil, fmt.Errorf("truncated key packet header")
		}
		h, n = 6, int(binary.BigEndian.Uint32(pk[2:6]))
	default:
		return nil, fmt.Errorf("key packet with partial length")
	}
	if tag >= 16 || h+n > len(pk) {
		return nil, fmt.Errorf("key packet header cannot be re-encoded")
	}
	var hdr []byte
	if h == 2 {
		hdr = []byte{0x80 | tag<<2 | 1, byte(n >> 8), byte(n)} // one byte longer
	} else {
		if h == 6 {
			return nil, fmt.Errorf("key packet too long to re-encode")
		}
		hdr = []byte{0x80 | tag<<2 | 2, byte(n >> 24), byte(n >> 16), byte(n >> 8), byte(n)} // two bytes longer
	}
	out := make([]byte, 0, len(pk)+3)
	out = append(append(out, hdr...), pk[h:]...)
	return out, nil
}
