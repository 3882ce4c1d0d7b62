package pgp

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"unicode"

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
	lines    [2][]byte       // the lookahead's armor lines (ReadKeyPacketIDs), likewise
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
	ids, pos, err := c.keyPackets(lines)
	if err != nil {
		return nil, err
	}
	// The encrypted data: its bytes decoded so far, then the lines still
	// armored. Walked once per distinct value, decoded a line at a time.
	key := verifiedKey(c.dec[pos:], lines.rest)
	if c.verified[key] {
		return ids, nil
	}
	if err := c.walk(c.dec[pos:], lines); err != nil {
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

// LineReader hands out the lines of a text one at a time: the egress gate
// reads a large copy so, from its parts, without joining them.
type LineReader interface {
	// ReadLine returns the next line without its line end (LF, or CR
	// LF), valid until the next call, or io.EOF after the last line.
	ReadLine() ([]byte, error)
}

// ReadKeyPacketIDs is KeyPacketIDs of the message that src hands out a
// line at a time, for a message too large to hold whole: it reads src to
// its end (io.EOF) and holds a few lines of it at a time. Its encrypted
// data is walked every time, not remembered. The armor is read as
// KeyPacketIDs reads it (TestReadKeyPacketIDsAsKeyPacketIDs holds the two
// to each other).
func (c *Checker) ReadKeyPacketIDs(src LineReader) ([]uint64, error) {
	lines := &armorLines{src: src, bufs: c.lines}
	defer func() { c.lines = lines.bufs }()
	if err := lines.open(); err != nil {
		return nil, err
	}
	ids, pos, err := c.keyPackets(lines)
	if err == nil {
		err = c.walk(c.dec[pos:], lines)
	}
	if err == nil {
		err = lines.err // what the lookahead found after the walk's last line
	}
	if lines.readErr != nil {
		err = lines.readErr // a line cut by it was not the sender's
	}
	if err != nil {
		return nil, err
	}
	return ids, nil
}

// keyPackets decodes the key packets (and marker packets) at the start of
// lines into c.dec and returns their key IDs and the offset in c.dec at
// which the encrypted data packet starts.
func (c *Checker) keyPackets(lines armorSource) ([]uint64, int, error) {
	dec := c.dec[:0]
	defer func() { c.dec = dec }()
	// want makes sure n bytes from pos are decoded.
	want := func(pos, n int) error {
		for len(dec) < pos+n {
			var err error
			if dec, err = decodeLine(lines, dec); err != nil {
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
			return nil, 0, err // malformed, or too short for any header
		}
		tag, hdr, n, partial, err := packetHeader(dec[pos:])
		if err != nil {
			return nil, 0, err
		}
		if tag == tagSEIPD || tag == tagAEAD {
			return ids, pos, nil
		}
		if partial {
			return nil, 0, fmt.Errorf("packet of tag %d with a partial length", tag)
		}
		if err := want(pos, hdr+n); err != nil {
			return nil, 0, err
		}
		switch tag {
		case tagPKESK:
			if len(ids) >= maxKeyPackets {
				return nil, 0, fmt.Errorf("more than %d key packets", maxKeyPackets)
			}
			p, err := packet.Read(bytes.NewReader(dec[pos : pos+hdr+n]))
			if err != nil {
				return nil, 0, fmt.Errorf("key packet: %v", err)
			}
			ek, ok := p.(*packet.EncryptedKey)
			if !ok {
				return nil, 0, errors.New("unreadable key packet")
			}
			ids = append(ids, ek.KeyId)
		case tagMarker: // RFC 9580 5.8: its body is "PGP", nothing else
			if string(dec[pos+hdr:pos+hdr+n]) != "PGP" {
				return nil, 0, errors.New("a marker packet that holds more than PGP")
			}
		case tagPadding: // its bytes are the sender's to choose: text in the clear
			return nil, 0, errors.New("a padding packet outside the encrypted data")
		default:
			return nil, 0, fmt.Errorf("unexpected packet of tag %d in an encrypted message", tag)
		}
		pos += hdr + n
	}
}

// walk checks that head, the encrypted data decoded so far, then lines
// are exactly one encrypted data packet.
func (c *Checker) walk(head []byte, lines armorSource) error {
	s := &armorStream{lines: lines, buf: head, line: c.line[:0]}
	err := s.walkEncrypted()
	c.line = s.line
	return err
}

// decodeLine appends the decoding of the next armor line of lines to dst.
// Each line is whole base64 (a multiple of four characters); only the last
// may hold padding.
func decodeLine(lines armorSource, dst []byte) ([]byte, error) {
	l, ok := lines.next()
	if !ok {
		if err := lines.failed(); err != nil {
			return dst, err
		}
		return dst, errTruncatedArmor
	}
	last := lines.done() // looked up first, so that a reader's error after l shows
	if len(l) == 0 || len(l)%4 != 0 || (!last && bytes.IndexByte(l, '=') >= 0) {
		return dst, errMalformedLine
	}
	n, k := len(dst), base64.StdEncoding.DecodedLen(len(l))
	dst = slices.Grow(dst, k)
	m, err := base64.StdEncoding.Decode(dst[n:n+k], l)
	if err != nil {
		return dst[:n], fmt.Errorf("malformed armor: %v", err)
	}
	return dst[:n+m], nil
}

// errMalformedLine is the error of an armor line that is not base64 where
// base64 must be.
var errMalformedLine = errors.New("malformed armor line")

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

func (r *lineReader) failed() error { return nil }

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
	lines armorSource
	buf   []byte // decoded, not yet read
	line  []byte // the room buf is decoded into (kept by the Checker)
}

// fill decodes lines until n bytes are in buf or no line is left.
func (s *armorStream) fill(n int) error {
	for len(s.buf) < n && !s.lines.done() {
		// What is left of buf moves to the front of the line buffer.
		s.line = append(s.line[:0], s.buf...)
		var err error
		if s.line, err = decodeLine(s.lines, s.line); err != nil {
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
			if s.line, err = decodeLine(s.lines, s.line[:0]); err != nil {
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

// Armor lines (RFC 9580 6.2).
const (
	armorBegin = "-----BEGIN PGP MESSAGE-----"
	armorEnd   = "-----END PGP MESSAGE-----"
)

// errNotOneArmor is the error of text around the armor, or of a second one.
var errNotOneArmor = errors.New("not one armored OpenPGP message with nothing around it")

// armorSource is the base64 lines of an armor, handed out one at a time.
type armorSource interface {
	// next returns the next line, valid until the one after it is read,
	// and false when none is left.
	next() ([]byte, bool)
	// done tells whether no line is left.
	done() bool
	// failed returns why the lines ended early, if they did.
	failed() error
}

// armorLines reads the one PGP MESSAGE armor block of a text from src and
// hands out its base64 lines: after the BEGIN line and the blank line that
// ends its (empty) armor headers, up to its checksum line (which is not
// checked: RFC 9580 6.1 makes it optional) and its END line, with nothing
// but whitespace after them. It looks one line ahead, so that done tells
// whether the line just handed out was the last: only the last may hold
// base64 padding. What follows the armor's END line is read (to src's end)
// when the lookahead reaches it.
type armorLines struct {
	src     LineReader
	bufs    [2][]byte // the lines handed out, in turn: each stays valid while the next is peeked
	turn    int
	peek    []byte // the next line, when peeked
	peeked  bool
	blanks  bool  // a blank line was read: no base64 line may follow it
	hasCRC  bool  // a checksum-like line was read: only the END line may follow it
	end     bool  // the END line and the text after it were read
	err     error // why the lines ended early: a malformed armor, or readErr
	readErr error // src's error, which a read reports over what it found before
}

// open reads the armor's BEGIN line (after blank lines) and its blank
// header line: no armor headers, for a Comment could carry the post in
// the clear.
func (a *armorLines) open() error {
	for {
		l, err := a.src.ReadLine()
		if err == io.EOF {
			return errNotOneArmor
		}
		if err != nil {
			return err
		}
		if len(bytes.TrimSpace(l)) == 0 {
			continue
		}
		if string(trimLineEnd(bytes.TrimLeftFunc(l, unicode.IsSpace))) != armorBegin {
			return errNotOneArmor
		}
		break
	}
	l, err := a.src.ReadLine()
	if err == io.EOF {
		return errNotOneArmor
	}
	if err != nil {
		return err
	}
	if len(bytes.TrimRight(l, "\r \t")) != 0 {
		return errors.New("armor with headers, or without a blank line after its first")
	}
	return nil
}

func (a *armorLines) failed() error { return a.err }

func (a *armorLines) done() bool {
	a.fill()
	return !a.peeked
}

func (a *armorLines) next() ([]byte, bool) {
	a.fill()
	if !a.peeked {
		return nil, false
	}
	a.peeked = false
	return a.peek, true
}

// keep copies l into the buffer whose turn it is and makes it the peeked
// line.
func (a *armorLines) keep(l []byte) {
	a.turn ^= 1
	a.bufs[a.turn] = append(a.bufs[a.turn][:0], l...)
	a.peek, a.peeked = a.bufs[a.turn], true
}

// fill peeks the next base64 line, unless one is peeked already or none is
// left; a malformed armor sets a.err and ends the lines.
func (a *armorLines) fill() {
	for !a.peeked && !a.end && a.err == nil {
		l, err := a.src.ReadLine()
		switch {
		case err == io.EOF:
			a.err = errNotOneArmor // no END line
			return
		case err != nil:
			a.err, a.readErr = err, err
			return
		}
		l = trimLineEnd(l)
		if bytes.IndexByte(l, '-') >= 0 && a.marker(l) {
			return
		}
		switch {
		case len(l) == 0:
			a.blanks = true
		case len(l) == 5 && l[0] == '=' && !a.hasCRC:
			a.hasCRC = true // dropped if the END line follows
		case a.blanks || a.hasCRC:
			a.err = errMalformedLine // a line after a blank or checksum line
		default:
			a.keep(l)
		}
	}
}

// marker reads a line holding a dash: a second BEGIN line is an error,
// and the END marker ends the armor, also after base64 on its line and
// before whitespace of any kind, as armorBody reads it; a checksum line
// held before it was the last, and is dropped. It tells whether the line
// was one of these.
func (a *armorLines) marker(l []byte) bool {
	if bytes.Contains(l, []byte("-----BEGIN PGP ")) {
		a.err = errNotOneArmor
		return true
	}
	e := bytes.TrimRightFunc(l, unicode.IsSpace)
	if !bytes.HasSuffix(e, []byte(armorEnd)) {
		return false
	}
	last := trimLineEnd(e[:len(e)-len(armorEnd)])
	if len(last) == 5 && last[0] == '=' && !a.hasCRC {
		last = nil // the checksum, on the END line
	}
	if len(last) > 0 {
		if a.blanks || a.hasCRC {
			a.err = errMalformedLine
			return true
		}
		a.keep(last) // before the trailer is read: l is src's
	}
	a.end = true
	a.err = a.trailer()
	return true
}

// trimLineEnd drops the CRs, spaces and tabs at the end of an armor line,
// as bytes.TrimRight(l, "\r \t") does, without its cutset's setup on
// every line of a large armor.
func trimLineEnd(l []byte) []byte {
	for len(l) > 0 {
		switch l[len(l)-1] {
		case '\r', ' ', '\t':
			l = l[:len(l)-1]
		default:
			return l
		}
	}
	return l
}

// trailer reads what follows the END line: whitespace only, to the end.
func (a *armorLines) trailer() error {
	for {
		l, err := a.src.ReadLine()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			a.readErr = err
			return err
		}
		if len(bytes.TrimSpace(l)) != 0 {
			return errNotOneArmor
		}
	}
}
