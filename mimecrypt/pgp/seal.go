package pgp

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// sealCipher is the cipher of every sealed body: AES-256, which gpg 2.2 and
// every RFC 9580 implementation read.
const sealCipher = packet.CipherAES256

// Sealed is one post signed once with the list key and encrypted once per
// format under one session key per format: SEIPDv1 (for keys that do not
// advertise SEIPDv2, such as GnuPG 2.2's), made while the post is signed,
// and SEIPDv2 with AES-256-OCB, made on first use from the SEIPDv1 body
// (decrypted as it is re-encrypted), so that the signed message itself is
// never held: a large post is in memory once per format it is encrypted in.
// For gives each recipient a message carrying only its own key packet in
// front of the shared body. A Sealed is safe for concurrent use.
type Sealed struct {
	cfg *packet.Config
	now time.Time

	v1  body
	v2  body
	eph ephemeral25519

	// ShowKeyIDs makes the key packets of a message for several recipients
	// name their key IDs, as a single recipient's do; by default they are
	// anonymous (hidden recipients). Set it before the first For.
	ShowKeyIDs bool
}

// body is one encrypted body with its session key and a cache of the armor
// of its tail for each alignment of the key packets in front of it.
type body struct {
	once   sync.Once
	err    error
	key    []byte
	packet []byte // the SEIPD packet

	// crc is the CRC-24 of packet from a zero register and shift the
	// register change of len(packet) bytes: a copy's armor checksum is
	// shift.apply(crc24(init, key packets)) ^ crc.
	crc   uint32
	shift crc24Shift

	mu     sync.Mutex
	tails  map[int][]byte // armored lines of packet[skip:] by skip
	cached int            // bytes held in tails
}

// tailCacheBudget bounds the armored tails one body keeps (8 MB). The key
// packets of recipients with keys of different sizes leave up to 48
// alignments; for a small post every tail is kept, so that each copy is
// written from shared bytes, while a large post's tails are not kept at
// all (an armored tail is a third larger than the post) but armored in
// chunks as each copy is written (Pieces.WriteShared): a 25 MB post is held
// once, as its encrypted body, whatever the number of subscribers.
var tailCacheBudget = 8 << 20

// Seal signs inner (a MIME entity: header fields, blank line, body) with the
// list key and encrypts it. Shape: RFC 3156 6.2 combined, the list signature
// inside the OpenPGP message (one-pass signature over binary literal data
// holding inner with CRLF line endings), so that a reader verifies it while
// decrypting and no subscriber-specific data (intended recipients) is
// signed. inner may itself be a sender's multipart/signed, which stays
// intact. cfg may set the hash (SHA-256 by default), Time and Rand.
func Seal(inner []byte, signer *openpgp.Entity, cfg *packet.Config) (*Sealed, error) {
	return SealParts([][]byte{inner}, signer, cfg)
}

// SealParts is Seal for an entity given as the concatenation of parts (a
// header block and the body of the post as it lies in the queue entry, say),
// which is never joined: the parts are made canonical and signed as they
// are encrypted, in chunks.
func SealParts(parts [][]byte, signer *openpgp.Entity, cfg *packet.Config) (*Sealed, error) {
	cfg = signingConfig(cfg)
	s := &Sealed{cfg: cfg, now: cfg.Now()}
	n := 0
	for _, p := range parts {
		n += len(p) + bareLFs(p)
	}
	// The SEIPDv1 body is made as the post is signed, in one buffer of its
	// final size (packet headers, literal data header, signatures, MDC).
	b := &s.v1
	b.once.Do(func() {
		b.err = s.encrypt(b, false, n+n/64+8192, func(w io.Writer) error {
			sw, err := openpgp.Sign(w, []*openpgp.Entity{signer}, &openpgp.FileHints{}, cfg)
			if err != nil {
				return fmt.Errorf("sign post: %w", err)
			}
			ew := &evenWriter{w: sw}
			cw := &canonicalWriter{w: ew}
			for _, p := range parts {
				if err := cw.write(p); err != nil {
					return fmt.Errorf("sign post: %w", err)
				}
			}
			if err := ew.flush(); err != nil {
				return fmt.Errorf("sign post: %w", err)
			}
			if err := sw.Close(); err != nil {
				return fmt.Errorf("sign post: %w", err)
			}
			return nil
		})
	})
	if b.err != nil {
		return nil, b.err
	}
	return s, nil
}

// encrypt makes b: a fresh session key, and the SEIPD packet (v2 with aead)
// of what fill writes, in a buffer of about size bytes.
func (s *Sealed) encrypt(b *body, aead bool, size int, fill func(io.Writer) error) error {
	b.key = make([]byte, sealCipher.KeySize())
	if _, err := io.ReadFull(s.random(), b.key); err != nil {
		return fmt.Errorf("session key: %w", err)
	}
	var out bytes.Buffer
	out.Grow(size)
	suite := packet.CipherSuite{Cipher: sealCipher, Mode: packet.AEADModeOCB}
	w, err := packet.SerializeSymmetricallyEncrypted(&out, sealCipher, aead, suite, b.key, s.cfg)
	if err != nil {
		return fmt.Errorf("encrypt post: %w", err)
	}
	if err := fill(w); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("encrypt post: %w", err)
	}
	b.packet = out.Bytes()
	b.crc, b.shift = crc24(0, b.packet), zeroShift(len(b.packet))
	b.tails = map[int][]byte{}
	return nil
}

// encrypted returns the body for the format; the SEIPDv2 body is made on
// first use from the plaintext of the SEIPDv1 body, streamed.
func (s *Sealed) encrypted(aead bool) (*body, error) {
	if !aead {
		return &s.v1, s.v1.err
	}
	b := &s.v2
	b.once.Do(func() {
		b.err = s.encrypt(b, true, len(s.v1.packet)+len(s.v1.packet)/64+4096, func(w io.Writer) error {
			p, err := packet.Read(bytes.NewReader(s.v1.packet))
			if err != nil {
				return fmt.Errorf("re-encrypt post: %w", err)
			}
			se, ok := p.(*packet.SymmetricallyEncrypted)
			if !ok {
				return fmt.Errorf("re-encrypt post: SEIPDv1 body is a %T", p)
			}
			r, err := se.Decrypt(sealCipher, s.v1.key)
			if err != nil {
				return fmt.Errorf("re-encrypt post: %w", err)
			}
			ew := &evenWriter{w: w}
			if _, err := io.Copy(ew, r); err != nil {
				return fmt.Errorf("re-encrypt post: %w", err)
			}
			if err := ew.flush(); err != nil {
				return fmt.Errorf("re-encrypt post: %w", err)
			}
			// Close checks the MDC of what was read.
			if err := r.Close(); err != nil {
				return fmt.Errorf("re-encrypt post: %w", err)
			}
			return nil
		})
	})
	return b, b.err
}

func (s *Sealed) random() io.Reader {
	if s.cfg != nil && s.cfg.Rand != nil {
		return s.cfg.Rand
	}
	return rand.Reader
}

// tail returns the armor lines of b.packet[skip:], computed once per skip
// while the tails fit in tailCacheBudget. Past the budget it returns nil
// and the bytes to armor (rest) as each copy is written.
func (b *body) tail(skip int) (tail, rest []byte) {
	rest = b.packet[min(skip, len(b.packet)):]
	size := armoredLen(len(rest))
	b.mu.Lock()
	defer b.mu.Unlock()
	if t, ok := b.tails[skip]; ok {
		return t, nil
	}
	if b.cached+size > tailCacheBudget {
		return nil, rest
	}
	t := appendArmorLines(make([]byte, 0, size), rest, "\r\n")
	b.tails[skip] = t
	b.cached += len(t)
	return t, nil
}

// armoredLen is the length of appendArmorLines's output for n bytes with
// CRLF line ends.
func armoredLen(n int) int {
	full := n / armorLineBytes
	out := full * (base64.StdEncoding.EncodedLen(armorLineBytes) + 2)
	if r := n % armorLineBytes; r > 0 {
		out += base64.StdEncoding.EncodedLen(r) + 2
	}
	return out
}

// For returns the multipart/encrypted entity (its Content-Type field, a
// blank line and the body, CRLF line endings) that the given recipients can
// open. With one recipient its key packet names its key ID; with several (a
// batch) every key packet is anonymous (hidden recipients, RFC 9580 5.1)
// unless ShowKeyIDs is set, and
// the body is SEIPDv2 only if every recipient's key advertises it. A
// recipient without a usable encryption key fails the call with an error
// wrapping ErrNoEncryptionKey.
func (s *Sealed) For(recipients ...*openpgp.Entity) ([]byte, error) {
	m, err := s.message(recipients)
	if err != nil {
		return nil, err
	}
	out := make([]byte, 0, m.len())
	out = append(out, m.head...)
	if m.tail != nil {
		out = append(out, m.tail...)
	} else {
		out = appendArmorLines(out, m.rest, "\r\n")
	}
	return append(out, m.trailer...), nil
}

// WriteFor writes what For returns to w without assembling it in memory
// first: the shared part of the body is written from the Sealed's cache.
func (s *Sealed) WriteFor(w io.Writer, recipients ...*openpgp.Entity) error {
	m, err := s.message(recipients)
	if err != nil {
		return err
	}
	if _, err := w.Write(m.head); err != nil {
		return fmt.Errorf("write encrypted message: %w", err)
	}
	if m.tail != nil {
		_, err = w.Write(m.tail)
	} else {
		err = writeArmorLines(w, m.rest)
	}
	if err != nil {
		return fmt.Errorf("write encrypted message: %w", err)
	}
	if _, err := w.Write(m.trailer); err != nil {
		return fmt.Errorf("write encrypted message: %w", err)
	}
	return nil
}

// writeArmorLines writes the armor lines of b to w in chunks, without
// holding the whole armor in memory.
func writeArmorLines(w io.Writer, b []byte) error {
	bp := armorBufs.Get().(*[]byte)
	defer armorBufs.Put(bp)
	buf := *bp
	for len(b) > 0 {
		n := min(len(b), armorChunk)
		buf = appendArmorLines(buf[:0], b[:n], "\r\n")
		if _, err := w.Write(buf); err != nil {
			return err
		}
		b = b[n:]
	}
	return nil
}

// armorChunk is the bytes writeArmorLines armors at a time (1,024 lines).
const armorChunk = armorLineBytes * 1024

// armorBufs holds writeArmorLines's buffers, so that the copies of a large
// post, each armored as it is sent, do not each make their own.
var armorBufs = sync.Pool{New: func() any {
	b := make([]byte, 0, armoredLen(armorChunk))
	return &b
}}

// recipientMessage is one For message in pieces: the per-recipient head
// (MIME header and the armor lines of the key packets), the shared tail
// (the armor of the rest of the body: cached, or else rest, to be armored
// as it is written) and the trailer.
type recipientMessage struct {
	head, tail, trailer []byte
	rest                []byte
	sharedID            int // which of the Sealed's shared tails tail is (see Pieces)
}

func (m *recipientMessage) len() int {
	if m.tail == nil {
		return len(m.head) + armoredLen(len(m.rest)) + len(m.trailer)
	}
	return len(m.head) + len(m.tail) + len(m.trailer)
}

// message builds the per-recipient pieces of a For message.
func (s *Sealed) message(recipients []*openpgp.Entity) (*recipientMessage, error) {
	if len(recipients) == 0 {
		return nil, fmt.Errorf("no recipient: %w", ErrNoEncryptionKey)
	}
	keys := make([]openpgp.Key, len(recipients))
	aead := true
	for i, r := range recipients {
		k, v2, err := EncryptionKey(r, s.now, s.cfg)
		if err != nil {
			return nil, err
		}
		keys[i] = k
		aead = aead && v2
	}
	b, err := s.encrypted(aead)
	if err != nil {
		return nil, err
	}
	var pk bytes.Buffer
	hidden := len(recipients) > 1 && !s.ShowKeyIDs
	for _, k := range keys {
		if err := s.keyPacket(&pk, k.PublicKey, b.key, aead, hidden); err != nil {
			return nil, fmt.Errorf("encrypt session key to %X: %w", k.PublicKey.Fingerprint, err)
		}
	}
	pkb, err := padForGnuPG(pk.Bytes(), len(b.packet))
	if err != nil {
		return nil, err
	}
	// The armor carries its CRC-24 line: RFC 9580 6.1 lets a writer omit
	// it, but strict readers (PGPy) refuse armor without it.
	sum := armorChecksumLine(b.shift.apply(crc24(crc24Init, pkb))^b.crc, "\r\n")
	// The key packets and the first bytes of the body fill whole armor lines;
	// the rest of the body's armor is shared by every message with the same
	// alignment.
	skip := (armorLineBytes - len(pkb)%armorLineBytes) % armorLineBytes
	skip = min(skip, len(b.packet))
	pkb = append(pkb, b.packet[:skip]...)

	bd, err := boundary()
	if err != nil {
		return nil, err
	}
	head := make([]byte, 0, 700+len(pkb)*3/2)
	head = append(head, "Content-Type: multipart/encrypted;\r\n protocol=\"application/pgp-encrypted\";\r\n boundary=\""+bd+"\"\r\n\r\n"+
		"This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"+
		"--"+bd+"\r\n"+
		"Content-Type: application/pgp-encrypted\r\n"+
		"Content-Description: PGP/MIME version identification\r\n\r\n"+
		"Version: 1\r\n\r\n"+
		"--"+bd+"\r\n"+
		"Content-Type: application/octet-stream; name=\"encrypted.asc\"\r\n"+
		"Content-Description: OpenPGP encrypted message\r\n"+
		"Content-Disposition: inline; filename=\"encrypted.asc\"\r\n\r\n"+
		"-----BEGIN PGP MESSAGE-----\r\n\r\n"...)
	head = appendArmorLines(head, pkb, "\r\n")
	trailer := append(sum, "-----END PGP MESSAGE-----\r\n\r\n--"+bd+"--\r\n"...)
	tail, rest := b.tail(skip)
	id := 2 * skip
	if aead {
		id++
	}
	return &recipientMessage{head: head, tail: tail, rest: rest, trailer: trailer, sharedID: id}, nil
}
