package keyring

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"cloister/internal/config"
)

// CredentialName is the name of the systemd credential holding the keyring
// passphrase ($CREDENTIALS_DIRECTORY/keyring-passphrase).
const CredentialName = "keyring-passphrase"

// maxPassphraseFile bounds what LoadPassphrase reads.
const maxPassphraseFile = 4096

// ErrNoPassphrase means neither keyring_passphrase_file nor the systemd
// credential names a passphrase.
var ErrNoPassphrase = errors.New("no keyring passphrase: set keyring_passphrase_file or pass the systemd credential " + CredentialName)

// LoadPassphrase reads the keyring passphrase from cfg.KeyringPassphraseFile,
// else from $CREDENTIALS_DIRECTORY/keyring-passphrase (a systemd credential);
// never from the configuration itself. One trailing newline is dropped. A
// file that the group may write or others may read (permissions looser than
// 0640) is refused, as is an empty one.
func LoadPassphrase(cfg *config.Config) ([]byte, error) {
	path := cfg.KeyringPassphraseFile
	if path == "" {
		if dir := os.Getenv("CREDENTIALS_DIRECTORY"); dir != "" {
			path = filepath.Join(dir, CredentialName)
			if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
				return nil, fmt.Errorf("%w (%s does not exist)", ErrNoPassphrase, path)
			}
		}
	}
	if path == "" {
		return nil, ErrNoPassphrase
	}
	return readPassphrase(path)
}

// readPassphrase reads and checks one passphrase file.
func readPassphrase(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("keyring passphrase file %s does not exist: %w", path, ErrNoPassphrase)
		}
		return nil, fmt.Errorf("keyring passphrase: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("keyring passphrase: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("keyring passphrase file %s is not a regular file", path)
	}
	if perm := fi.Mode().Perm(); perm&^0o640 != 0 {
		return nil, fmt.Errorf("keyring passphrase file %s has mode %04o: allow at most 0640 (chmod 600 %s)", path, perm, path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxPassphraseFile+1))
	if err != nil {
		return nil, fmt.Errorf("read keyring passphrase: %w", err)
	}
	if len(b) > maxPassphraseFile {
		return nil, fmt.Errorf("keyring passphrase file %s is longer than %d bytes", path, maxPassphraseFile)
	}
	b = bytes.TrimSuffix(b, []byte("\n"))
	b = bytes.TrimSuffix(b, []byte("\r"))
	if len(b) == 0 {
		return nil, fmt.Errorf("keyring passphrase file %s is empty", path)
	}
	return b, nil
}
