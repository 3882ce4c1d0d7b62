package rawmime

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime/quotedprintable"
	"strings"
)

// ErrUnknownEncoding is wrapped by Decode's error for a
// Content-Transfer-Encoding it does not know.
var ErrUnknownEncoding = errors.New("unknown content-transfer-encoding")

// TransferEncoding returns the entity's Content-Transfer-Encoding,
// lower-cased and trimmed; "7bit" when it has none.
func (e *Entity) TransferEncoding() string {
	v := strings.ToLower(strings.TrimSpace(e.Fields.Get("Content-Transfer-Encoding")))
	if v == "" {
		return "7bit"
	}
	return v
}

// DecodedBody is Decode of the entity's body with its transfer encoding.
func (e *Entity) DecodedBody(max int64) ([]byte, error) {
	return Decode(e.TransferEncoding(), e.Body, max)
}

// Decode undoes a Content-Transfer-Encoding (cte, compared without regard
// to case or surrounding blanks); it is the one decoder of transfer
// encodings. It does not touch the charset.
//
//   - "", 7bit, 8bit and binary: body is returned as it is (no copy, no bound).
//   - quoted-printable and base64 (whose line breaks and blanks are
//     ignored): at most max decoded bytes (max <= 0: no bound). Beyond max,
//     the first max bytes are returned with an error wrapping
//     ErrTooLarge; on malformed input, what was decoded before the
//     fault is returned with the error.
//   - anything else: body as it is, with an error wrapping
//     ErrUnknownEncoding, so that a lenient caller may take the bytes as
//     they are.
func Decode(cte string, body []byte, max int64) ([]byte, error) {
	b, _, err := decode(cte, body, max, 0)
	return b, err
}

// DecodeWithRoom is Decode into a buffer with front bytes of room in front
// of the decoding, for a caller that decodes a large part in order to
// write over it (an S/MIME envelope decrypted where it lies, then the
// opened message written over the plaintext, header in front): buf is that
// buffer, decoded is buf[front:]. For the encodings Decode returns the
// body of as it is ("", 7bit, 8bit, binary and unknown ones), buf is nil:
// decoded is then body itself, which the caller must not write over.
func DecodeWithRoom(cte string, body []byte, max int64, front int) (decoded, buf []byte, err error) {
	return decode(cte, body, max, front)
}

// decode is Decode and DecodeWithRoom: buf, when the body was decoded,
// is the buffer decoded is the end of, after front bytes of room.
func decode(cte string, body []byte, max int64, front int) (decoded, buf []byte, err error) {
	var r io.Reader
	// What the decoding can hold at most: quoted-printable never grows,
	// base64 is 3 bytes for 4 characters. The buffer takes it at once;
	// growing by doubling would hold up to twice a large part, copying it
	// at each step.
	size := int64(len(body))
	switch c := strings.ToLower(strings.TrimSpace(cte)); c {
	case "", "7bit", "8bit", "binary":
		return body, nil, nil
	case "quoted-printable":
		r = quotedprintable.NewReader(bytes.NewReader(body))
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, blankStripper{bytes.NewReader(body)})
		size = size/4*3 + 3
	default:
		return body, nil, fmt.Errorf("%w %q", ErrUnknownEncoding, cte)
	}
	if max > 0 {
		r = io.LimitReader(r, max+1)
		size = min(size, max+1)
	}
	// ReadFrom asks for MinRead bytes of room before each read.
	out := bytes.NewBuffer(make([]byte, front, front+int(size)+bytes.MinRead))
	_, err = out.ReadFrom(r)
	buf = out.Bytes()
	b := buf[front:]
	if err != nil {
		return b, buf, fmt.Errorf("decode %s: %w", strings.ToLower(strings.TrimSpace(cte)), err)
	}
	if max > 0 && int64(len(b)) > max {
		return b[:max], buf[:front+int(max)], fmt.Errorf("decoded body larger than %d bytes: %w", max, ErrTooLarge)
	}
	return b, buf, nil
}

// blankStripper drops CR, LF, spaces and tabs from base64 text.
type blankStripper struct{ r io.Reader }

func (s blankStripper) Read(p []byte) (int, error) {
	n, err := s.r.Read(p)
	j := 0
	for _, c := range p[:n] {
		if c != '\r' && c != '\n' && c != ' ' && c != '\t' {
			p[j] = c
			j++
		}
	}
	return j, err
}
