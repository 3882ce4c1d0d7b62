package pgp

import (
	"bytes"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// TestPadForGnuPG checks that key packets are re-encoded only when the data
// would be a multiple of 3 bytes long, and still parse.
func TestPadForGnuPG(t *testing.T) {
	for _, algo := range []string{"curve25519", "rsa3072"} {
		sub := newKey(t, "a@subs.test", algo, false)
		k, _, err := EncryptionKey(sub, sub.PrimaryKey.CreationTime.Add(1), nil)
		if err != nil {
			t.Fatal(err)
		}
		var pk bytes.Buffer
		if err := packet.SerializeEncryptedKey(&pk, k.PublicKey, packet.CipherAES256, make([]byte, 32), nil); err != nil {
			t.Fatal(err)
		}
		for rest := 0; rest < 3; rest++ {
			out, err := padForGnuPG(pk.Bytes(), rest)
			if err != nil {
				t.Fatal(err)
			}
			if (len(out)+rest)%3 == 0 {
				t.Errorf("%s rest %d: length %d still a multiple of 3", algo, rest, len(out)+rest)
			}
			if (len(pk.Bytes())+rest)%3 != 0 && !bytes.Equal(out, pk.Bytes()) {
				t.Errorf("%s rest %d: changed a packet that needed no padding", algo, rest)
			}
			p, err := packet.Read(bytes.NewReader(out))
			if err != nil {
				t.Fatalf("%s rest %d: re-encoded packet does not parse: %v", algo, rest, err)
			}
			if ek, ok := p.(*packet.EncryptedKey); !ok || ek.KeyId != k.PublicKey.KeyId {
				t.Errorf("%s rest %d: got %T", algo, rest, p)
			}
		}
	}
}
