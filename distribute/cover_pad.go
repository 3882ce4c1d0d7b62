package distribute

import (
	"bytes"
	"crypto/rand"

	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
)

// Size buckets of encrypted copies on lists with cover_traffic: the entity
// that is signed and encrypted (in canonical CRLF form) is padded to the
// next power of two from coverMinBucket up to coverBigBucket, then to the
// next multiple of coverBigBucket. Every copy of one bucket then has the
// same ciphertext size for one subscriber's key, real post or dummy.
const (
	coverMinBucket = 4 << 10
	coverBigBucket = 1 << 20
	// PaddingField is the header field, inside the encryption, whose
	// value fills an entity up to its bucket.
	PaddingField = "Cloister-Padding"
	// padLine is the longest line of the padding field.
	padLine = 78
	// padMin is the smallest padding field: its name, one character, CRLF.
	padMin = len(PaddingField) + 2 + 1 + 2
)

// CoverBucket returns the bucket of an entity of n canonical bytes.
func CoverBucket(n int) int {
	b := coverMinBucket
	for b < n && b < coverBigBucket {
		b *= 2
	}
	if n <= b {
		return b
	}
	return (n + coverBigBucket - 1) / coverBigBucket * coverBigBucket
}

// padToBucket adds a padding field to the header of entity (a MIME entity:
// header fields, blank line, body) so that its canonical form is exactly
// CoverBucket bytes long. The body is kept byte for byte. An entity that
// cannot be parsed is returned as it is.
func padToBucket(entity []byte) []byte {
	msg, err := mailmsg.Parse(entity)
	if err != nil {
		return entity
	}
	n := len(rawmime.Canonical(entity))
	want := CoverBucket(n + padMin)
	return append(padField(want-n, msg.NL), entity...)
}

// padField returns a padding field of exactly size bytes once its line
// ends are CRLF (size >= padMin), with lines of at most padLine characters,
// written with nl line ends. Its value is random letters, so that it does
// not compress.
func padField(size int, nl string) []byte {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var b bytes.Buffer
	prefix := PaddingField + ": "
	rb := make([]byte, padLine)
	for left := size; left > 0; {
		line := min(left-2, padLine) // characters on this line, without CRLF
		if rest := left - line - 2; rest > 0 && rest < 4 {
			line -= 4 - rest // leave room for a last line " x" + CRLF
		}
		b.WriteString(prefix)
		rand.Read(rb)
		for i := len(prefix); i < line; i++ {
			b.WriteByte(alphabet[rb[i]%64])
		}
		b.WriteString(nl)
		left -= line + 2
		prefix = " "
	}
	return b.Bytes()
}
