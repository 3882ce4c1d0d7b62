package pgp

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt"
)

// UnsupportedCipherError means a message is encrypted to the list's key
// with a symmetric cipher the list cannot decrypt (Camellia, Twofish, IDEA,
// Blowfish). InClear says where the cipher is named: in the clear header
// of a SEIPDv2 packet (RFC 9580 5.13.2), which anyone holding the message
// reads, or only inside the session key that the list's private key
// decrypts (v3 PKESK before SEIPDv1). A name of the second kind is a value
// decrypted with the list key, fit for the operator's log, not for an
// answer to whoever sent the message. It wraps mimecrypt.ErrMalformed.
type UnsupportedCipherError struct {
	Cipher  string
	InClear bool
}

func (e *UnsupportedCipherError) Error() string {
	return fmt.Sprintf("the cipher %s is not supported", e.Cipher)
}

// Unwrap classes the error as unreadable input.
func (e *UnsupportedCipherError) Unwrap() error { return mimecrypt.ErrMalformed }

// cipherNames names the symmetric algorithms of RFC 9580 9.3.
var cipherNames = map[packet.CipherFunction]string{
	1: "IDEA", 2: "TripleDES", 3: "CAST5", 4: "Blowfish",
	7: "AES-128", 8: "AES-192", 9: "AES-256", 10: "Twofish",
	11: "Camellia-128", 12: "Camellia-192", 13: "Camellia-256",
}

// cipherName names c in a fixed form: a known name or its number.
func cipherName(c packet.CipherFunction) string {
	if n, ok := cipherNames[c]; ok {
		return n
	}
	return fmt.Sprintf("number %d", byte(c))
}

// unsupportedSessionCipher looks, after the library found no key to
// decrypt the packets read from bin with, for a key packet to a list key
// whose session key does decrypt but names a cipher the library lacks.
func (o *opener) unsupportedSessionCipher(bin io.Reader) error {
	r := packet.NewReader(bin)
	for tries := 0; tries < maxKeyTries; {
		p, err := r.Next()
		if err == io.EOF || (err != nil && !isUnsupported(err)) {
			return nil
		}
		ek, ok := p.(*packet.EncryptedKey)
		if !ok {
			if _, seipd := p.(*packet.SymmetricallyEncrypted); seipd {
				return nil
			}
			continue
		}
		for _, priv := range listPrivateKeys(o.opts.ListKeys) {
			if ek.KeyId != 0 && ek.KeyId != priv.KeyId {
				continue
			}
			if tries++; tries > maxKeyTries {
				return nil
			}
			e := *ek
			err := e.Decrypt(priv, o.cfg)
			if err != nil && isUnsupported(err) && e.CipherFunc != 0 && !e.CipherFunc.IsSupported() {
				return &UnsupportedCipherError{Cipher: cipherName(e.CipherFunc)}
			}
		}
	}
	return nil
}

// listPrivateKeys returns the unlocked private keys (primary and subkeys)
// of the list's entities.
func listPrivateKeys(el openpgp.EntityList) []*packet.PrivateKey {
	var out []*packet.PrivateKey
	for _, e := range el {
		if e.PrivateKey != nil && !e.PrivateKey.Encrypted {
			out = append(out, e.PrivateKey)
		}
		for _, sk := range e.Subkeys {
			if sk.PrivateKey != nil && !sk.PrivateKey.Encrypted {
				out = append(out, sk.PrivateKey)
			}
		}
	}
	return out
}

// isUnsupported says whether err is the library's UnsupportedError.
func isUnsupported(err error) bool {
	var u pgperrors.UnsupportedError
	return errors.As(err, &u)
}

// aeadCipherIn reads the cipher number out of the library's refusal of a
// SEIPDv2 packet header ("invalid aead cipher: N"), a value read in the
// clear from the packet.
func aeadCipherIn(err pgperrors.UnsupportedError) (packet.CipherFunction, bool) {
	n, ok := strings.CutPrefix(string(err), "invalid aead cipher: ")
	if !ok {
		return 0, false
	}
	c, perr := strconv.Atoi(n)
	if perr != nil || c < 0 || c > 255 {
		return 0, false
	}
	return packet.CipherFunction(c), true
}
