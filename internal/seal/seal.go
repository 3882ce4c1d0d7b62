// Package seal protects queue entries that hold the plaintext of an encrypted
// post (security invariant 2): their message bytes are sealed with
// AES-256-GCM under the queue key, which lives outside the queue (a file
// named by queue_key_file, or the systemd credential "queue-key").
//
// Format 2 (what Seal and NewSealer write) is a stream: after the magic line
// come a random 32-byte salt and the body in 64 KiB chunks, each sealed on its
// own under a key derived for the entry (HKDF-SHA256 of the queue key and the
// salt), with a nonce made of the chunk's number and a flag marking the last
// chunk, and the entry id as additional data (the STREAM construction of
// Hoang, Reyhanitabar, Rogaway and Vizár). Dropped, reordered, repeated or
// cut chunks fail to open, as does a body moved to another entry. A runner
// can so seal an output as it writes it, and Open works in place, so a large
// post is held once in memory, not once per step. Format 1 (one GCM message
// over the whole body) is still opened, for entries queued by an earlier
// release.
package seal

import (
	"bufio"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"cloister/internal/safeio"
)

// Alg names the sealing algorithm in queue metadata.
const Alg = "aes-256-gcm"

// magic starts every sealed body of format 1, so a sealed entry is
// recognisable by eye; magic2 starts those of format 2.
var (
	magic  = []byte("CLOISTER-SEALED-1\n")
	magic2 = []byte("CLOISTER-SEALED-2\n")
)

const (
	// ChunkSize is the plaintext length of every chunk of format 2 but the
	// last, which holds what is left (0 to ChunkSize bytes).
	ChunkSize = 64 << 10
	saltSize  = 32
	tagSize   = 16
	// header2 is the length of format 2's magic and salt.
	header2 = len("CLOISTER-SEALED-2\n") + saltSize
	// info binds the entry keys of format 2 to their use.
	info = "cloister queue seal 2"
)

// ErrNoKey means no queue key is configured or found.
var ErrNoKey = errors.New("no queue key: set queue_key_file or provide the queue-key credential")

// ErrOpen means a sealed body could not be opened (wrong key or damaged).
var ErrOpen = errors.New("sealed entry cannot be opened (wrong queue key or damaged entry)")

// Key is a queue key.
type Key struct {
	aead cipher.AEAD // format 1
	raw  []byte      // format 2 derives a key per entry from it
	id   string
}

// ID identifies the key (a hash of it), recorded with sealed entries so that a
// wrong key is named rather than guessed.
func (k *Key) ID() string { return k.id }

// NewKey makes a Key from 32 bytes.
func NewKey(raw []byte) (*Key, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("queue key must be 32 bytes, got %d", len(raw))
	}
	block, err := aes.NewCipher(raw)
	if err != nil {
		return nil, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(append([]byte("cloister queue key id\x00"), raw...))
	return &Key{aead: aead, raw: append([]byte(nil), raw...), id: hex.EncodeToString(sum[:8])}, nil
}

// Load reads the queue key: from path when set, else from
// $CREDENTIALS_DIRECTORY/queue-key. The file holds 64 hex digits.
func Load(path string) (*Key, error) {
	if path == "" {
		if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
			path = filepath.Join(dir, "queue-key")
		}
	}
	if path == "" {
		return nil, ErrNoKey
	}
	b, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("%w (%s does not exist)", ErrNoKey, path)
		}
		return nil, fmt.Errorf("read queue key: %w", err)
	}
	raw, err := hex.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("queue key %s: not hex: %w", path, err)
	}
	return NewKey(raw)
}

// Generate writes a new random key file (mode 0600), refusing to overwrite.
func Generate(path string) error {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	if err := safeio.WriteFile(path, []byte(fmt.Sprintf("%x\n", raw)), 0o600, safeio.CreateOnly()); err != nil {
		return fmt.Errorf("create queue key: %w", err)
	}
	return nil
}

// SealedSize is the length of the sealed form of n plaintext bytes.
func SealedSize(n int) int {
	chunks := n/ChunkSize + 1
	if n > 0 && n%ChunkSize == 0 {
		chunks--
	}
	return header2 + n + chunks*tagSize
}

// entryAEAD derives the AEAD of one entry from the queue key and its salt.
func (k *Key) entryAEAD(salt []byte) (cipher.AEAD, error) {
	ek, err := hkdf.Key(sha256.New, k.raw, salt, info, 32)
	if err != nil {
		return nil, fmt.Errorf("derive entry key: %w", err)
	}
	block, err := aes.NewCipher(ek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

// chunkNonce is the nonce of chunk i: seven zero bytes, the chunk's number
// (big-endian) and 1 for the last chunk, 0 for the others.
func chunkNonce(nonce []byte, i uint32, last bool) {
	clear(nonce[:7])
	binary.BigEndian.PutUint32(nonce[7:11], i)
	nonce[11] = 0
	if last {
		nonce[11] = 1
	}
}

// newHeader starts a sealed body: magic and a fresh salt, and the entry's AEAD.
func (k *Key) newHeader() ([]byte, cipher.AEAD) {
	h := make([]byte, header2)
	copy(h, magic2)
	if _, err := io.ReadFull(rand.Reader, h[len(magic2):]); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	aead, err := k.entryAEAD(h[len(magic2):])
	if err != nil {
		panic("seal: " + err.Error()) // a 32-byte key always derives
	}
	return h, aead
}

// maxChunks bounds a body's chunk count to what the nonce's counter holds.
const maxChunks = 1 << 32

// Seal encrypts plaintext (format 2); additional binds the ciphertext to its
// entry (the entry id), so sealed bodies cannot be swapped between entries.
func (k *Key) Seal(plaintext, additional []byte) []byte {
	h, aead := k.newHeader()
	out := make([]byte, 0, SealedSize(len(plaintext)))
	out = append(out, h...)
	nonce := make([]byte, aead.NonceSize())
	for i := uint32(0); ; i++ {
		n := min(len(plaintext), ChunkSize)
		last := n == len(plaintext)
		chunkNonce(nonce, i, last)
		out = aead.Seal(out, nonce, plaintext[:n], additional)
		plaintext = plaintext[n:]
		if last {
			return out
		}
	}
}

// NewSealer returns a reader of the sealed form (format 2) of what r holds,
// made a chunk at a time: a body is sealed as it is written, without a
// sealed copy of it in memory. An error reading r is returned by Read.
func (k *Key) NewSealer(r io.Reader, additional []byte) io.Reader {
	h, aead := k.newHeader()
	return &sealer{
		in:   bufio.NewReaderSize(r, ChunkSize),
		aead: aead,
		ad:   append([]byte(nil), additional...),
		out:  h,
		buf:  make([]byte, ChunkSize, ChunkSize+tagSize),
	}
}

type sealer struct {
	in    *bufio.Reader
	aead  cipher.AEAD
	ad    []byte
	out   []byte // sealed bytes not yet read
	buf   []byte
	i     uint64
	done  bool
	err   error
	nonce [12]byte
}

func (s *sealer) Read(p []byte) (int, error) {
	for len(s.out) == 0 {
		if s.err != nil {
			return 0, s.err
		}
		if s.done {
			return 0, io.EOF
		}
		s.fill()
	}
	n := copy(p, s.out)
	s.out = s.out[n:]
	return n, nil
}

// fill seals the next chunk into out, or sets err.
func (s *sealer) fill() {
	n, err := io.ReadFull(s.in, s.buf[:ChunkSize])
	switch {
	case err == io.EOF || err == io.ErrUnexpectedEOF:
		s.done = true
	case err != nil:
		s.err = fmt.Errorf("seal: read body: %w", err)
		return
	default:
		if _, err := s.in.Peek(1); err == io.EOF {
			s.done = true
		} else if err != nil {
			s.err = fmt.Errorf("seal: read body: %w", err)
			return
		}
	}
	if s.i >= maxChunks {
		s.err = errors.New("seal: body too long")
		return
	}
	chunkNonce(s.nonce[:], uint32(s.i), s.done)
	s.i++
	s.out = s.aead.Seal(s.buf[:0], s.nonce[:], s.buf[:n], s.ad)
}

// Open decrypts what Seal or NewSealer produced (or format 1). It decrypts in
// place: the plaintext it returns shares sealed's storage, whose contents are
// overwritten; a caller keeps no use of sealed after it.
func (k *Key) Open(sealed, additional []byte) ([]byte, error) {
	switch {
	case len(sealed) >= len(magic2) && string(sealed[:len(magic2)]) == string(magic2):
		return k.open2(sealed, additional)
	case len(sealed) >= len(magic) && string(sealed[:len(magic)]) == string(magic):
		return k.open1(sealed, additional)
	}
	return nil, ErrOpen
}

// open1 opens format 1: one GCM message after a random nonce.
func (k *Key) open1(sealed, additional []byte) ([]byte, error) {
	rest := sealed[len(magic):]
	if len(rest) < k.aead.NonceSize() {
		return nil, ErrOpen
	}
	nonce, ct := rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():]
	pt, err := k.aead.Open(ct[:0], nonce, ct, additional)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}

// open2 opens format 2 chunk by chunk, each in place, moving its plaintext
// down to follow the one before.
func (k *Key) open2(sealed, additional []byte) ([]byte, error) {
	if len(sealed) < header2+tagSize {
		return nil, ErrOpen
	}
	aead, err := k.entryAEAD(sealed[len(magic2):header2])
	if err != nil {
		return nil, err
	}
	var nonce [12]byte
	rest := sealed[header2:]
	out := sealed[:0]
	for i := uint64(0); ; i++ {
		if i >= maxChunks || len(rest) < tagSize {
			return nil, ErrOpen
		}
		n := min(len(rest), ChunkSize+tagSize)
		last := n == len(rest)
		chunkNonce(nonce[:], uint32(i), last)
		pt, err := aead.Open(rest[:0], nonce[:], rest[:n], additional)
		if err != nil {
			return nil, ErrOpen
		}
		out = append(out, pt...) // copy moves it down; out never passes rest
		rest = rest[n:]
		if last {
			return out, nil
		}
	}
}
