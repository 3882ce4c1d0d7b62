package mailmsg

import (
	"io"

	"github.com/emersion/go-message/charset"
)

// charsetReader decodes the character sets go-message knows (ISO-8859-*,
// windows-*, ...), for RFC 2047 words in header fields.
func charsetReader(cs string, r io.Reader) (io.Reader, error) {
	return charset.Reader(cs, r)
}
