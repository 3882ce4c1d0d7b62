package pgp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// maxKeyPackets bounds the key packets a Checker reads.
const maxKeyPackets = 10000

// maxVerified bounds the encrypted data a Checker remembers.
const maxVerified = 16

// Packet tags a Checker knows (RFC 9580 5).
const (
	tagPKESK   = 1
	tagMarker  = 10
	tagSEIPD   = 18
	tagAEAD    = 20 // the draft's AEAD Encrypted Data packet
	tagPadding = 21
)

// Checker reads, without any key, to whom armored OpenPGP messages are
// encrypted. It is meant for many copies of one message that share their
// encrypted data and differ in their key packets (a fan-out): the encrypted
// data of each copy is walked once and remembered, so that a later copy
// with the same bytes costs only the decoding of its key packets (and, for
// a large post, the hashing of the rest). It holds no copy of a message:
// the encrypted data is decoded a line at a time as it is walked. A Checker
// is not safe for concurrent use.
type Checker struct {
	verified map[string]bool // by verifiedKey
	dec      []byte          // the decoded key packets, kept for the next message
	line     []byte          // the decoded line of the walk, likewise
}

// KeyPacketIDs returns the key IDs that the public-key encrypted session key
// packets of an armored OpenPGP message name, in order (0 for a hidden
// recipient). msg must be one armor block of type PGP MESSAGE with nothing
// but whitespace around it, holding key packets followed by one
// integrity-protected encrypted data packet (SEIPD v1 or v2) that ends the
// data: text around the armor, armor headers, a packet of another kind
// (literal data, a password-encrypted session key, compressed data,
// padding), a marker packet holding more than "PGP" or bytes after the
// encrypted data are errors: nothing outside the encryption may carry text. The Checker remembers the encrypted
// data it has walked.
func (c *Checker) KeyPacketIDs(msg []byte) ([]uint64, error) {
	body, err := armorBody(msg)
	if err != nil {
		return nil, err
	}
	lines := &lineReader{rest: body}
	dec := c.dec[:0]
	decodeLine := func(dst []byte) ([]byte, error) {
		l, ok := lines.next()
		if !ok {
			return dst, errTruncatedArmor
		}
		if len(l) == 0 || len(l)%4 != 0 || (!lines.done() && bytes.IndexByte(l, '=') >= 0) {
			return dst, errors.New("malformed armor line")
		}
		n := len(dst)
		dst = append(dst, make([]byte, base64.StdEncoding.DecodedLen(len(l)))...)
		m, err := base64.StdEncoding.Decode(dst[n:], l)
		if err != nil {
			return dst[:n], fmt.Errorf("malformed armor: %v", err)
		}
		return dst[:n+m], nil
	}
	// want makes sure n bytes from pos are decoded.
	want := func(pos, n int) error {
		for len(dec) < pos+n {
			var err error
			if dec, err = decodeLine(dec); err != nil {
				return err
			}
		}
		return nil
	}
	var ids []uint64
	pos := 0
	for {
		// Fewer than 6 bytes may be left, but only at the end of the lines:
		// a malformed last line is an error like any other (once a text
		// line after a short encrypted data packet was dropped unread).
		if err := want(pos, 6); err != nil && (err != errTruncatedArmor || len(dec)-pos < 2) {
			return nil, err // malformed, or too short for any header
		}
		tag, hdr, n, partial, err := packetHeader(dec[pos:])
		if err != nil {
			return nil, err
		}
		if tag == tagSEIPD || tag == tagAEAD {
			break
		}
		if partial {
			return nil, fmt.Errorf("packet of tag %d with a partial length", tag)
		}
		if err := want(pos, hdr+n); err != nil {
			return nil, err
		}
		switch tag {
		case tagPKESK:
			if len(ids) >= maxKeyPackets {
				return nil, fmt.Errorf("more than %d key packets", maxKeyPackets)
			}
			p, err := packet.Read(bytes.NewReader(dec[pos : pos+hdr+n]))
			if err != nil {
				return nil, fmt.Errorf("key packet: %v", err)
			}
			ek, ok := p.(*packet.EncryptedKey)
			if !ok {
				return nil, errors.New("unreadable key packet")
			}
			ids = append(ids, ek.KeyId)
		case tagMarker: // RFC 9580 5.8: its body is "PGP", nothing else
			if string(dec[pos+hdr:pos+hdr+n]) != "PGP" {
				return nil, errors.New("a marker packet that holds more than PGP")
			}
		case tagPadding: // its bytes are the sender's to choose: text in the clear
			return nil, errors.New("a padding packet outside the encrypted data")
		default:
			return nil, fmt.Errorf("unexpected packet of tag %d in an encrypted message", tag)
		}
		pos += hdr + n
	}
	// The encrypted data: its bytes decoded so far, then the lines still
	// armored. Walked once per distinct value, decoded a line at a time.
	key := verifiedKey(dec[pos:], lines.rest)
	c.dec = dec
	if c.verified[key] {
		return ids, nil
	}
	s := &armorStream{lines: lines, decodeLine: decodeLine, buf: dec[pos:], line: c.line[:0]}
	err = s.walkEncrypted()
	c.line = s.line
	if err != nil {
		return nil, err
	}
	if c.verified == nil {
		c.verified = map[string]bool{}
	}
	if len(c.verified) < maxVerified {
		c.verified[key] = true
	}
	return ids, nil
}

// errTruncatedArmor is the error of a walk that needs more armor lines
// than a message has.
var errTruncatedArmor = errors.New("truncated OpenPGP message")

// verifiedKey is the key under which a Checker remembers encrypted data
// it walked, given as its decoded head and its armored rest: the head's
// length, then the bytes themselves when small, else their SHA-256 (a 25 MB
// post's copies would otherwise keep maxVerified copies of it). The length
// keeps the split apart: with a mere separator, a shorter head whose rest
// began with the other's tail (a NUL, then text) made the same key, and a
// copy that a walk refuses took the verdict of one it passed.
func verifiedKey(head, rest []byte) string {
	n := binary.BigEndian.AppendUint64(nil, uint64(len(head)))
	if len(head)+len(rest) < verifiedInline {
		return "=" + string(n) + string(head) + string(rest)
	}
	h := sha256.New()
	h.Write(n)
	h.Write(head)
	h.Write(rest)
	return "#" + string(h.Sum(nil))
}

// verifiedInline is the size of encrypted data up to which a Checker
// remembers it as it is, rather than by its hash.
const verifiedInline = 1 << 20

// armorBody returns the base64 text of the one PGP MESSAGE armor block that
// msg holds: after the blank line that ends its (empty) armor headers,
// without its checksum line and its last line end.
func armorBody(msg []byte) ([]byte, error) {
	const begin, end = "-----BEGIN PGP MESSAGE-----", "-----END PGP MESSAGE-----"
	t := bytes.TrimSpace(msg)
	if !bytes.HasPrefix(t, []byte(begin)) || !bytes.HasSuffix(t, []byte(end)) || len(t) < len(begin)+len(end) ||
		bytes.Contains(t[len(begin):], []byte("-----BEGIN PGP ")) {
		return nil, errors.New("not one armored OpenPGP message with nothing around it")
	}
	r := &lineReader{rest: t[len(begin) : len(t)-len(end)]}
	if l, ok := r.next(); !ok || len(l) != 0 {
		return nil, errors.New("malformed armor header line")
	}
	// No armor headers: For writes none, and a Comment could carry the
	// post in the clear.
	if h, ok := r.next(); !ok || len(h) != 0 {
		return nil, errors.New("armor with headers, or without a blank line after its first")
	}
	body := bytes.TrimRight(r.rest, "\r\n \t")
	if i := bytes.LastIndexByte(body, '\n'); i >= 0 {
		if l := bytes.TrimRight(body[i+1:], "\r \t"); len(l) == 5 && l[0] == '=' {
			body = bytes.TrimRight(body[:i], "\r\n \t") // the CRC-24 line
		}
	}
	return body, nil
}

// lineReader hands out the lines of rest, without their line ends.
type lineReader struct{ rest []byte }

func (r *lineReader) done() bool { return r.rest == nil }

func (r *lineReader) next() ([]byte, bool) {
	if r.rest == nil {
		return nil, false
	}
	var l []byte
	if i := bytes.IndexByte(r.rest, '\n'); i >= 0 {
		l, r.rest = r.rest[:i], r.rest[i+1:]
	} else {
		l, r.rest = r.rest, nil
	}
	return bytes.TrimRight(l, "\r \t"), true
}

// packetHeader reads an OpenPGP packet header (RFC 9580 4.2): the tag, the
// header's length, and the body's length (of its first chunk when partial).
func packetHeader(b []byte) (tag byte, hdr, n int, partial bool, err error) {
	if len(b) < 2 || b[0]&0x80 == 0 {
		return 0, 0, 0, false, errors.New("malformed packet header")
	}
	if b[0]&0x40 == 0 { // legacy format
		tag = (b[0] >> 2) & 0x0f
		switch b[0] & 3 {
		case 0:
			return tag, 2, int(b[1]), false, nil
		case 1:
			if len(b) < 3 {
				return 0, 0, 0, false, errors.New("truncated packet header")
			}
			return tag, 3, int(b[1])<<8 | int(b[2]), false, nil
		case 2:
			if len(b) < 5 {
				return 0, 0, 0, false, errors.New("truncated packet header")
			}
			return tag, 5, int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4]), false, nil
		}
		return 0, 0, 0, false, errors.New("packet of indeterminate length")
	}
	tag = b[0] & 0x3f
	hl, n, partial, err := newLength(b[1:])
	return tag, 1 + hl, n, partial, err
}

// newLength reads a new-format body length: its size, the length, and
// whether it is a partial body length.
func newLength(b []byte) (size, n int, partial bool, err error) {
	if len(b) < 1 {
		return 0, 0, false, errors.New("truncated packet length")
	}
	switch l := int(b[0]); {
	case l < 192:
		return 1, l, false, nil
	case l < 224:
		if len(b) < 2 {
			return 0, 0, false, errors.New("truncated packet length")
		}
		return 2, (l-192)<<8 + int(b[1]) + 192, false, nil
	case l == 255:
		if len(b) < 5 {
			return 0, 0, false, errors.New("truncated packet length")
		}
		return 5, int(b[1])<<24 | int(b[2])<<16 | int(b[3])<<8 | int(b[4]), false, nil
	default:
		return 1, 1 << (l & 0x1f), true, nil
	}
}

// armorStream is the encrypted data of an armored message as the walk
// reads it: buf, decoded and not yet read, then the armored lines, decoded
// one at a time as the walk needs them and dropped once read.
type armorStream struct {
	lines      *lineReader
	decodeLine func(dst []byte) ([]byte, error)
	buf        []byte // decoded, not yet read
	line       []byte // the room buf is decoded into (kept by the Checker)
}

// fill decodes lines until n bytes are in buf or no line is left.
func (s *armorStream) fill(n int) error {
	for len(s.buf) < n && !s.lines.done() {
		// What is left of buf moves to the front of the line buffer.
		s.line = append(s.line[:0], s.buf...)
		var err error
		if s.line, err = s.decodeLine(s.line); err != nil {
			return err
		}
		s.buf = s.line
	}
	return nil
}

// skip reads n bytes.
func (s *armorStream) skip(n int) error {
	for n > 0 {
		if len(s.buf) == 0 {
			if s.lines.done() {
				return errors.New("truncated encrypted data")
			}
			var err error
			if s.line, err = s.decodeLine(s.line[:0]); err != nil {
				return err
			}
			s.buf = s.line
		}
		k := min(n, len(s.buf))
		s.buf, n = s.buf[k:], n-k
	}
	return nil
}

// walkEncrypted checks that the stream is exactly one encrypted data
// packet: its chain of partial lengths ends with a definite one at the end
// of the data.
func (s *armorStream) walkEncrypted() error {
	if err := s.fill(6); err != nil {
		return err
	}
	tag, hdr, n, partial, err := packetHeader(s.buf)
	if err != nil {
		return err
	}
	if tag != tagSEIPD && tag != tagAEAD {
		return fmt.Errorf("packet of tag %d where the encrypted data should be", tag)
	}
	if err := s.fill(hdr + 1); err != nil {
		return err
	}
	if tag == tagSEIPD && (len(s.buf) <= hdr || (s.buf[hdr] != 1 && s.buf[hdr] != 2)) {
		return errors.New("encrypted data packet of an unknown version")
	}
	if err := s.skip(hdr); err != nil {
		return err
	}
	for {
		if n < 0 {
			return errors.New("truncated encrypted data")
		}
		if err := s.skip(n); err != nil {
			return err
		}
		if !partial {
			break
		}
		if err := s.fill(5); err != nil {
			return err
		}
		size, m, p, err := newLength(s.buf)
		if err != nil {
			return err
		}
		if err := s.skip(size); err != nil {
			return err
		}
		n, partial = m, p
	}
	if err := s.fill(1); err != nil {
		return err
	}
	if len(s.buf) != 0 || !s.lines.done() {
		return errors.New("bytes after the encrypted data")
	}
	return nil
}

// KeyIDs returns the key IDs of e's primary key and subkeys: a key packet
// naming one of them is for e's holder alone.
func KeyIDs(e *openpgp.Entity) []uint64 {
	if e == nil || e.PrimaryKey == nil {
		return nil
	}
	ids := []uint64{e.PrimaryKey.KeyId}
	for _, s := range e.Subkeys {
		if s.PublicKey != nil {
			ids = append(ids, s.PublicKey.KeyId)
		}
	}
	return ids
}
