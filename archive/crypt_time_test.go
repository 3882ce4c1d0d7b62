package archive

import (
	"bytes"
	"crypto"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// TestEncryptKeyMadeAfterNow: the archive key is made on first use, after
// the job's time (the time the runner claimed the post), so a post is
// encrypted at a now before the key's creation; it is still archived, and
// reads back. A key that has expired at now stays refused.
func TestEncryptKeyMadeAfterNow(t *testing.T) {
	made := time.Date(2026, 11, 1, 9, 0, 1, 0, time.UTC)
	tests := []struct {
		name     string
		lifetime uint32 // key lifetime in seconds; 0 never expires
		now      time.Time
		wantErr  string
	}{
		{name: "made a fraction of a second after now", now: made.Add(-100 * time.Millisecond)},
		{name: "made a minute after now", now: made.Add(-time.Minute)},
		{name: "made at now", now: made},
		{name: "made before now", now: made.Add(time.Hour)},
		{name: "expired at now", lifetime: 3600, now: made.Add(2 * time.Hour), wantErr: "encrypt to the archive key"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultHash: crypto.SHA256,
				Time: func() time.Time { return made }, KeyLifetimeSecs: tc.lifetime}
			key, err := openpgp.NewEntity("team archive", "", "team@lists.test", cfg)
			if err != nil {
				t.Fatal(err)
			}
			msg := post(0, "\n")
			stored, err := Encrypt(msg, key, tc.now)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Encrypt = %v, want an error %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("Encrypt: %v", err)
			}
			if bytes.Contains(stored, []byte(marker)) {
				t.Fatal("stored in clear")
			}
			got, err := Decrypt(stored, key)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("Decrypt = %q, %v", got, err)
			}
		})
	}
}

// TestAppendEncryptFails: when the post cannot be encrypted to the key (it
// expired), Append fails and the archive holds nothing of it, not even a
// temporary file: the file is encrypted as it is written, so a failure
// half-way must leave no part of it.
func TestAppendEncryptFails(t *testing.T) {
	made := t0.AddDate(0, 0, -30)
	key, err := openpgp.NewEntity("team archive", "", "team@lists.test", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA,
		Curve: packet.Curve25519, DefaultHash: crypto.SHA256, Time: func() time.Time { return made }, KeyLifetimeSecs: 3600})
	if err != nil {
		t.Fatal(err)
	}
	s := &Store{Dir: filepath.Join(t.TempDir(), "team@lists.test")}
	if _, err := s.Append(id(t0, 0), post(0, "\n"), key, t0); err == nil || !strings.Contains(err.Error(), "encrypt to the archive key") {
		t.Fatalf("Append = %v, want the encryption's error", err)
	}
	var left []string
	filepath.Walk(s.Dir, func(p string, fi os.FileInfo, err error) error {
		if err == nil && !fi.IsDir() {
			left = append(left, p)
		}
		return nil
	})
	if len(left) != 0 {
		t.Fatalf("files left: %v", left)
	}
	if es, err := s.Entries(); err != nil || len(es) != 0 {
		t.Fatalf("entries %v %v", es, err)
	}
}
