// Package seal protects queue entries that hold the plaintext of an encrypted
// post (security invariant 2): their message bytes are sealed with
// AES-256-GCM under the queue key, which lives outside the queue (a file
// named by queue_key_file, or the systemd credential "queue-key").
package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
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

// magic starts every sealed body, so a sealed entry is recognisable by eye.
var magic = []byte("CLOISTER-SEALED-1\n")

// ErrNoKey means no queue key is configured or found.
var ErrNoKey = errors.New("no queue key: set queue_key_file or provide the queue-key credential")

// ErrOpen means a sealed body could not be opened (wrong key or damaged).
var ErrOpen = errors.New("sealed entry cannot be opened (wrong queue key or damaged entry)")

// Key is a queue key.
type Key struct {
	aead cipher.AEAD
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
	return &Key{aead: aead, id: hex.EncodeToString(sum[:8])}, nil
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

// Seal encrypts plaintext; additional binds the ciphertext to its entry (the
// entry id), so sealed bodies cannot be swapped between entries.
func (k *Key) Seal(plaintext, additional []byte) []byte {
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := io.ReadFull(rand.Reader, nonce); err != nil {
		panic("crypto/rand failed: " + err.Error())
	}
	out := make([]byte, 0, len(magic)+len(nonce)+len(plaintext)+k.aead.Overhead())
	out = append(out, magic...)
	out = append(out, nonce...)
	return k.aead.Seal(out, nonce, plaintext, additional)
}

// Open decrypts what Seal produced.
func (k *Key) Open(sealed, additional []byte) ([]byte, error) {
	if len(sealed) < len(magic)+k.aead.NonceSize() || string(sealed[:len(magic)]) != string(magic) {
		return nil, ErrOpen
	}
	rest := sealed[len(magic):]
	nonce, ct := rest[:k.aead.NonceSize()], rest[k.aead.NonceSize():]
	pt, err := k.aead.Open(nil, nonce, ct, additional)
	if err != nil {
		return nil, ErrOpen
	}
	return pt, nil
}
