package keyring

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/config"
)

// TestLoadPassphrase covers the file, the systemd credential, modes and
// missing or empty files.
func TestLoadPassphrase(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		viaCred bool // in $CREDENTIALS_DIRECTORY instead of keyring_passphrase_file
		noFile  bool
		want    string
		wantErr string
	}{
		{name: "file 0600", content: "s3cret\n", mode: 0o600, want: "s3cret"},
		{name: "file 0640", content: "s3cret", mode: 0o640, want: "s3cret"},
		{name: "file 0400 with CRLF", content: "s3cret\r\n", mode: 0o400, want: "s3cret"},
		{name: "credential", content: "cred pass\n", mode: 0o400, viaCred: true, want: "cred pass"},
		{name: "world readable", content: "s3cret", mode: 0o644, wantErr: "mode 0644"},
		{name: "group writable", content: "s3cret", mode: 0o660, wantErr: "mode 0660"},
		{name: "empty", content: "\n", mode: 0o600, wantErr: "is empty"},
		{name: "too long", content: strings.Repeat("x", maxPassphraseFile+1), mode: 0o600, wantErr: "longer than"},
		{name: "missing file", noFile: true, wantErr: "does not exist"},
		{name: "missing credential", noFile: true, viaCred: true, wantErr: "does not exist"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			path := filepath.Join(dir, "pass")
			if tt.viaCred {
				path = filepath.Join(dir, CredentialName)
			}
			if !tt.noFile {
				if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
					t.Fatal(err)
				}
				os.Chmod(path, tt.mode)
			}
			cfg := &config.Config{}
			if tt.viaCred {
				t.Setenv("CREDENTIALS_DIRECTORY", dir)
			} else {
				t.Setenv("CREDENTIALS_DIRECTORY", "")
				cfg.KeyringPassphraseFile = path
			}
			got, err := LoadPassphrase(cfg)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, []byte(tt.want)) {
				t.Fatalf("passphrase %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("neither", func(t *testing.T) {
		t.Setenv("CREDENTIALS_DIRECTORY", "")
		if _, err := LoadPassphrase(&config.Config{}); !errors.Is(err, ErrNoPassphrase) {
			t.Fatalf("err = %v, want ErrNoPassphrase", err)
		}
	})
}

// TestSealedSecret checks that a sealed secret opens only with the right
// passphrase and additional data, and refuses absurd parameters.
func TestSealedSecret(t *testing.T) {
	s, err := sealSecret([]byte("pw"), []byte("key material"), secretAD(KindPGP, "a@b"))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(s.Data, []byte("key material")) {
		t.Fatal("plaintext visible in the sealed record")
	}
	tests := []struct {
		name string
		pass string
		ad   []byte
		mod  func(*sealedSecret) *sealedSecret
		ok   bool
	}{
		{"right", "pw", secretAD(KindPGP, "a@b"), nil, true},
		{"wrong passphrase", "px", secretAD(KindPGP, "a@b"), nil, false},
		{"other list", "pw", secretAD(KindPGP, "c@b"), nil, false},
		{"other kind", "pw", secretAD(KindX509, "a@b"), nil, false},
		{"huge memory", "pw", secretAD(KindPGP, "a@b"), func(s *sealedSecret) *sealedSecret { c := *s; c.Memory = 1 << 30; return &c }, false},
		{"unknown kdf", "pw", secretAD(KindPGP, "a@b"), func(s *sealedSecret) *sealedSecret { c := *s; c.KDF = "md5"; return &c }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s
			if tt.mod != nil {
				r = tt.mod(s)
			}
			pt, err := r.open([]byte(tt.pass), tt.ad)
			if tt.ok != (err == nil) {
				t.Fatalf("open = %v, want ok %v", err, tt.ok)
			}
			if tt.ok && string(pt) != "key material" {
				t.Fatalf("opened %q", pt)
			}
		})
	}
}
