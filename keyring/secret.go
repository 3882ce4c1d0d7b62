package keyring

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"errors"
	"fmt"
	"runtime"

	"golang.org/x/crypto/argon2"
)

// Argon2id parameters of newly sealed secrets. They are stored with each
// secret, so that a later change does not strand old records.
const (
	argonTime    = 2
	argonMemory  = 64 * 1024 // KiB
	argonThreads = 2
)

// argonCost is the Argon2id cost of a derivation.
type argonCost struct {
	time    uint32
	memory  uint32 // KiB
	threads uint8
}

// sealCost is the cost sealSecret gives a new record: the constants above.
// Only this package's own tests lower it (TestMain, to the least that open
// accepts), to spare the package's test time; nothing outside the package
// can reach it, and TestProductionSealCost checks what it holds before they
// do.
var sealCost = argonCost{argonTime, argonMemory, argonThreads}

// ErrBadPassphrase means a private key could not be decrypted with the
// keyring passphrase (a wrong passphrase or a damaged record).
var ErrBadPassphrase = errors.New("private key does not open with the keyring passphrase")

// sealedSecret is a private key encrypted at rest: AES-256-GCM under a key
// derived from the keyring passphrase by Argon2id with a per-record salt. The
// additional data binds the record to its list and kind, so a record copied
// under another list does not open.
type sealedSecret struct {
	KDF     string `json:"kdf"` // "argon2id"
	Time    uint32 `json:"t"`
	Memory  uint32 `json:"m"` // KiB
	Threads uint8  `json:"p"`
	Salt    []byte `json:"salt"`
	Nonce   []byte `json:"nonce"`
	Data    []byte `json:"data"` // ciphertext and tag
}

// secretAD is the additional data of a list's secret of one kind.
func secretAD(kind Kind, list string) []byte {
	return []byte("cloister keyring v1\x00" + string(kind) + "\x00" + list)
}

// sealSecret encrypts plaintext under passphrase.
func sealSecret(passphrase, plaintext, ad []byte) (*sealedSecret, error) {
	s := &sealedSecret{KDF: "argon2id", Time: sealCost.time, Memory: sealCost.memory, Threads: sealCost.threads,
		Salt: make([]byte, 16), Nonce: make([]byte, 12)}
	if _, err := rand.Read(s.Salt); err != nil {
		return nil, err
	}
	if _, err := rand.Read(s.Nonce); err != nil {
		return nil, err
	}
	aead, err := s.aead(passphrase)
	if err != nil {
		return nil, err
	}
	s.Data = aead.Seal(nil, s.Nonce, plaintext, ad)
	return s, nil
}

// open decrypts the secret.
func (s *sealedSecret) open(passphrase, ad []byte) ([]byte, error) {
	if s == nil {
		return nil, errors.New("no private key stored")
	}
	aead, err := s.aead(passphrase)
	if err != nil {
		return nil, err
	}
	if len(s.Nonce) != aead.NonceSize() {
		return nil, fmt.Errorf("sealed key: nonce of %d bytes", len(s.Nonce))
	}
	pt, err := aead.Open(nil, s.Nonce, s.Data, ad)
	if err != nil {
		return nil, ErrBadPassphrase
	}
	return pt, nil
}

// aead derives the record's key and returns its AES-256-GCM.
func (s *sealedSecret) aead(passphrase []byte) (cipher.AEAD, error) {
	if s.KDF != "argon2id" {
		return nil, fmt.Errorf("sealed key: unknown kdf %q", s.KDF)
	}
	// Bounds keep a damaged record from asking for absurd work.
	if s.Time == 0 || s.Time > 16 || s.Memory < 8*1024 || s.Memory > 1<<20 || s.Threads == 0 || len(s.Salt) < 16 {
		return nil, fmt.Errorf("sealed key: argon2id parameters out of bounds (t=%d m=%d p=%d)", s.Time, s.Memory, s.Threads)
	}
	if len(passphrase) == 0 {
		return nil, ErrNoPassphrase
	}
	touchKDFMemory(s.Memory)
	key := argon2.IDKey(passphrase, s.Salt, s.Time, s.Memory, s.Threads, 32)
	// Argon2id's memory (64 MiB by default) is garbage once the key is
	// derived; collected now, a runner's post reuses it instead of adding to
	// it (bench/memory.sh: a runner that unlocks the list key and then
	// reads a 25 MB post peaked at the sum of both).
	runtime.GC()
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}
