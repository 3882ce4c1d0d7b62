package pgp

import "encoding/base64"

// The OpenPGP armor checksum (RFC 9580 6.1): CRC-24 with this generator and
// initial value, over the binary data.
const (
	crc24Init = 0xb704ce
	crc24Poly = 0x1864cfb
)

// crc24Table holds the register change for each top byte.
var crc24Table = func() (t [256]uint32) {
	for i := range t {
		c := uint32(i) << 16
		for range 8 {
			c <<= 1
			if c&0x1000000 != 0 {
				c ^= crc24Poly
			}
		}
		t[i] = c & 0xffffff
	}
	return t
}()

// crc24 continues the checksum crc over d.
func crc24(crc uint32, d []byte) uint32 {
	for _, b := range d {
		crc = (crc<<8)&0xffffff ^ crc24Table[byte(crc>>16)^b]
	}
	return crc
}

// crc24Shift is the linear map that feeding n zero bytes applies to the
// register: CRC-24 without a final XOR is linear over GF(2), so the
// checksum of a||b is shift_len(b)(crc(a)) ^ crc(b) with b started from a
// zero register. The shared body of a Sealed has its zero-start checksum
// and its shift computed once, and each copy's checksum then costs only
// its own key packets. Column i is the image of bit i.
type crc24Shift [24]uint32

// apply returns the register r after the shift.
func (m *crc24Shift) apply(r uint32) uint32 {
	var out uint32
	for i := 0; r != 0; i, r = i+1, r>>1 {
		if r&1 != 0 {
			out ^= m[i]
		}
	}
	return out
}

// then returns the shift that applies m, then n.
func (m *crc24Shift) then(n *crc24Shift) crc24Shift {
	var out crc24Shift
	for i := range out {
		out[i] = n.apply(m[i])
	}
	return out
}

// zeroShift returns the shift of n zero bytes, by repeated squaring.
func zeroShift(n int) crc24Shift {
	var one, acc crc24Shift
	for i := range one {
		one[i] = crc24(1<<i, []byte{0})
		acc[i] = 1 << i
	}
	for ; n > 0; n >>= 1 {
		if n&1 != 0 {
			acc = acc.then(&one)
		}
		one = one.then(&one)
	}
	return acc
}

// armorChecksumLine returns the armor checksum line ("=" and the base64 of
// the three CRC bytes) for crc, ending in nl.
func armorChecksumLine(crc uint32, nl string) []byte {
	b := []byte{byte(crc >> 16), byte(crc >> 8), byte(crc)}
	return []byte("=" + base64.StdEncoding.EncodeToString(b) + nl)
}
