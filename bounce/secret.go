package bounce

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"cloister/internal/safeio"
)

// Secret is the site secret that authenticates VERP bounce addresses (see
// Secret.Address). Whoever holds it can make bounces that count; it protects
// no content, so it lives in the state directory and goes into backups.
type Secret struct {
	key []byte
}

// NewSecret makes a Secret from 32 bytes.
func NewSecret(raw []byte) (*Secret, error) {
	if len(raw) != 32 {
		return nil, fmt.Errorf("bounce secret must be 32 bytes, got %d", len(raw))
	}
	return &Secret{key: append([]byte{}, raw...)}, nil
}

// LoadSecret reads a bounce secret file (64 hex digits), refusing one that
// its group or others may read.
func LoadSecret(path string) (*Secret, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read bounce secret: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read bounce secret: %w", err)
	}
	if st.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("bounce secret %s has mode %04o, looser than 0600: chmod 600 it", path, st.Mode().Perm())
	}
	b := make([]byte, 200)
	n, _ := f.Read(b)
	raw, err := hex.DecodeString(strings.TrimSpace(string(b[:n])))
	if err != nil {
		return nil, fmt.Errorf("bounce secret %s: not hex: %w", path, err)
	}
	s, err := NewSecret(raw)
	if err != nil {
		return nil, fmt.Errorf("bounce secret %s: %w", path, err)
	}
	return s, nil
}

// CreateSecret writes a new random bounce secret to path (mode 0600). It
// never replaces an existing file: it returns an error wrapping
// os.ErrExist instead, so two processes creating it at once agree on one.
func CreateSecret(path string) error {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return err
	}
	if err := safeio.WriteFile(path, []byte(fmt.Sprintf("%x\n", raw)), 0o600, safeio.CreateOnly()); err != nil {
		return fmt.Errorf("create bounce secret: %w", err)
	}
	return nil
}

// OpenSecret loads the bounce secret at path, creating it first when the
// site has none yet (a site made before bounce addresses were signed).
func OpenSecret(path string) (*Secret, error) {
	s, err := LoadSecret(path)
	if err == nil || !errors.Is(err, os.ErrNotExist) {
		return s, err
	}
	if err := CreateSecret(path); err != nil && !errors.Is(err, os.ErrExist) {
		return nil, err
	}
	return LoadSecret(path)
}
