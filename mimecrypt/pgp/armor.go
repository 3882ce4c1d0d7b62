package pgp

import (
	"encoding/base64"
)

// armorLineBytes is the number of binary bytes on one armor line (64 base64
// characters).
const armorLineBytes = 48

// appendArmorLines appends the base64 lines of b (64 characters each, the
// last one shorter) to dst, each ending in nl. It needs len(b) to be a
// multiple of armorLineBytes, or b to be the end of the data.
func appendArmorLines(dst, b []byte, nl string) []byte {
	var line [64]byte
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
