package pgp

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/testdirs"
	"cloister/mimecrypt"
)

// TestUnsupportedCipher checks that a post encrypted to the list's key
// with a cipher the list lacks is reported as such, naming the cipher, and
// not as "not encrypted to the list's key": GnuPG's Camellia, Twofish, IDEA
// and Blowfish (named inside the session key, InClear false), and a SEIPDv2
// packet that names Camellia in its clear header (InClear true). A post to
// another key is still "not encrypted to the list's key".
func TestUnsupportedCipher(t *testing.T) {
	testdirs.Slow(t, "runs gpg for every cipher")
	for _, algo := range []string{"curve25519", "rsa3072"} {
		t.Run(algo, func(t *testing.T) {
			list := newKey(t, listAddr, algo, false)
			ann := newGnuPG(t)
			ann.genKey("Ann <ann@subs.test>", "cv25519", "0")
			ann.importKey(list)
			for _, c := range []struct{ gpg, name string }{
				{"CAMELLIA256", "Camellia-256"}, {"CAMELLIA128", "Camellia-128"}, {"TWOFISH", "Twofish"},
				{"IDEA", "IDEA"}, {"BLOWFISH", "Blowfish"},
			} {
				ct := ann.run([]byte("Hello list\n"), "--armor", "--encrypt", "--cipher-algo", c.gpg, "-r", listAddr)
				msg := postHeader("ann@subs.test") + "Content-Type: text/plain\r\n\r\n" + string(ct)
				res, err := Open([]byte(msg), OpenOptions{ListKeys: openpgp.EntityList{list}})
				var uc *UnsupportedCipherError
				if !errors.As(err, &uc) || uc.Cipher != c.name || uc.InClear {
					t.Fatalf("%s: got %v, want the cipher %s named inside the session key", c.gpg, err, c.name)
				}
				if !errors.Is(err, mimecrypt.ErrMalformed) || !strings.Contains(res.Reason, c.name) {
					t.Errorf("%s: reason %q", c.gpg, res.Reason)
				}
			}
			// AES still opens; another key's message is still "not to the list".
			ct := ann.run([]byte("Hello list\n"), "--armor", "--encrypt", "--cipher-algo", "AES256", "-r", listAddr)
			if _, err := Open([]byte(postHeader("ann@subs.test")+"Content-Type: text/plain\r\n\r\n"+string(ct)), OpenOptions{ListKeys: openpgp.EntityList{list}}); err != nil {
				t.Fatalf("AES-256: %v", err)
			}
			other := newKey(t, "other@lists.example.test", algo, false)
			res, err := Open([]byte(postHeader("ann@subs.test")+"Content-Type: text/plain\r\n\r\n"+string(ct)), OpenOptions{ListKeys: openpgp.EntityList{other}})
			if !errors.Is(err, mimecrypt.ErrNoKey) || !strings.Contains(res.Reason, "not encrypted to the list's key") {
				t.Fatalf("another key: %v (%s)", err, res.Reason)
			}
		})
	}
}

// TestUnsupportedCipherInClear: SEIPDv2 names its cipher in the clear.
func TestUnsupportedCipherInClear(t *testing.T) {
	list := newKey(t, listAddr, "curve25519", true)
	s, err := Seal([]byte("Content-Type: text/plain\r\n\r\nhello\r\n"), list, nil)
	if err != nil {
		t.Fatal(err)
	}
	out, err := s.For(list)
	if err != nil {
		t.Fatal(err)
	}
	bin, err := dearmor(armoredBlock(t, out), "PGP MESSAGE")
	if err != nil {
		t.Fatal(err)
	}
	// Name Camellia-256 in the SEIPDv2 header (version 2, AES-256, OCB).
	i := bytes.Index(bin, []byte{2, byte(packet.CipherAES256), byte(packet.AEADModeOCB)})
	if i < 0 {
		t.Fatal("no SEIPDv2 header found")
	}
	bin[i+1] = 13 // Camellia-256
	msg := postHeader("ann@subs.test") + "Content-Type: text/plain\r\n\r\n" + string(armorMessage(t, bin))
	res, err := Open([]byte(msg), OpenOptions{ListKeys: openpgp.EntityList{list}})
	var uc *UnsupportedCipherError
	if !errors.As(err, &uc) || uc.Cipher != "Camellia-256" || !uc.InClear {
		t.Fatalf("got %v (%s), want Camellia-256 named in the clear", err, res.Reason)
	}
}
