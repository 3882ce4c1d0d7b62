package pgp

import (
	"crypto"
	"testing"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// TestKeyTime: a key made after now is used at its newest self-signature's
// time (whole seconds), and a key made before now at now; at that time the
// key signs, which it refuses at the earlier now.
func TestKeyTime(t *testing.T) {
	made := time.Date(2026, 11, 1, 9, 0, 1, 0, time.UTC)
	key, err := openpgp.NewEntity("team", "", "team@lists.test",
		&packet.Config{Algorithm: packet.PubKeyAlgoEdDSA, Curve: packet.Curve25519, DefaultHash: crypto.SHA256,
			Time: func() time.Time { return made }})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		now  time.Time
		want time.Time
	}{
		{"key made in the second after now", made.Add(-300 * time.Millisecond), made},
		{"key made an hour after now", made.Add(-time.Hour), made},
		{"key made at now", made, made},
		{"key made before now", made.Add(90 * time.Minute), made.Add(90 * time.Minute)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := KeyTime(key, tc.now)
			if !got.Equal(tc.want) {
				t.Fatalf("KeyTime = %v, want %v", got, tc.want)
			}
			if _, ok := key.SigningKey(got, nil); !ok {
				t.Fatalf("the key does not sign at %v", got)
			}
			if _, ok := key.EncryptionKey(got, nil); !ok {
				t.Fatalf("the key does not encrypt at %v", got)
			}
		})
	}
	if !KeyTime(nil, made).Equal(made) {
		t.Fatal("KeyTime of no key is not now")
	}
}
