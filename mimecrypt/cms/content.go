package cms

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/des"
	"crypto/subtle"
	"encoding/asn1"
	"fmt"
	"io"
)

// Cipher is a content-encryption algorithm.
type Cipher int

// Content-encryption algorithms. DES3CBC is read but never written.
const (
	AES128CBC Cipher = iota + 1
	AES192CBC
	AES256CBC
	AES128GCM
	AES192GCM
	AES256GCM
	DES3CBC
)

var cipherNames = map[Cipher]string{
	AES128CBC: "aes128-cbc", AES192CBC: "aes192-cbc", AES256CBC: "aes256-cbc",
	AES128GCM: "aes128-gcm", AES192GCM: "aes192-gcm", AES256GCM: "aes256-gcm",
	DES3CBC: "des-ede3-cbc",
}

// String returns the algorithm's name, such as "aes256-gcm".
func (c Cipher) String() string {
	if n, ok := cipherNames[c]; ok {
		return n
	}
	return fmt.Sprintf("cipher(%d)", int(c))
}

// Authenticated reports whether the algorithm protects integrity (AES-GCM,
// carried in AuthEnvelopedData).
func (c Cipher) Authenticated() bool {
	return c == AES128GCM || c == AES192GCM || c == AES256GCM
}

// KeySize returns the content-encryption key size in bytes.
func (c Cipher) KeySize() int {
	switch c {
	case AES128CBC, AES128GCM:
		return 16
	case AES192CBC, AES192GCM, DES3CBC:
		return 24
	case AES256CBC, AES256GCM:
		return 32
	}
	return 0
}

func (c Cipher) oid() asn1.ObjectIdentifier {
	switch c {
	case AES128CBC:
		return oidAES128CBC
	case AES192CBC:
		return oidAES192CBC
	case AES256CBC:
		return oidAES256CBC
	case AES128GCM:
		return oidAES128GCM
	case AES192GCM:
		return oidAES192GCM
	case AES256GCM:
		return oidAES256GCM
	case DES3CBC:
		return oidDESEDE3CBC
	}
	return nil
}

func cipherForOID(oid asn1.ObjectIdentifier) (Cipher, bool) {
	for c := AES128CBC; c <= DES3CBC; c++ {
		if c.oid().Equal(oid) {
			return c, true
		}
	}
	return 0, false
}

// sealContent encrypts plaintext under key and returns the DER
// AlgorithmIdentifier (with its parameters), the ciphertext and, for GCM, the
// authentication tag.
func sealContent(c Cipher, key, plaintext []byte, rand io.Reader) (alg, ct, tag []byte, err error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("content cipher: %w", err)
	}
	oid, _ := asn1.Marshal(c.oid())
	switch c {
	case AES128CBC, AES192CBC, AES256CBC:
		iv := make([]byte, aes.BlockSize)
		if _, err := io.ReadFull(rand, iv); err != nil {
			return nil, nil, nil, fmt.Errorf("content iv: %w", err)
		}
		pad := aes.BlockSize - len(plaintext)%aes.BlockSize
		ct = make([]byte, len(plaintext)+pad)
		copy(ct, plaintext)
		for i := len(plaintext); i < len(ct); i++ {
			ct[i] = byte(pad)
		}
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, ct)
		return tlv(0x30, oid, tlv(0x04, iv)), ct, nil, nil
	case AES128GCM, AES192GCM, AES256GCM:
		nonce := make([]byte, 12)
		if _, err := io.ReadFull(rand, nonce); err != nil {
			return nil, nil, nil, fmt.Errorf("content nonce: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, nil, nil, fmt.Errorf("content cipher: %w", err)
		}
		sealed := aead.Seal(nil, nonce, plaintext, nil)
		n := len(sealed) - aead.Overhead()
		params := tlv(0x30, tlv(0x04, nonce), []byte{0x02, 0x01, byte(aead.Overhead())})
		return tlv(0x30, oid, params), sealed[:n], sealed[n:], nil
	}
	return nil, nil, nil, fmt.Errorf("%w: %v is not written", ErrUnsupported, c)
}

// openContent decrypts ciphertext. params is the DER parameters field of the
// content-encryption AlgorithmIdentifier; tag and aad are used by GCM only.
// When inPlace, the plaintext is written over ct, and for GCM the tag over
// the bytes after ct in its array (which the DER of the tag's OCTET STRING
// follows, so that there is room), when that capacity is there; the
// caller must then own ct's array and read nothing more from it but the
// plaintext. aad must not lie in that array.
func openContent(c Cipher, key, params, ct, tag, aad []byte, inPlace bool) ([]byte, error) {
	if len(key) != c.KeySize() {
		return nil, fmt.Errorf("%w: content key of %d bytes for %v", ErrDecrypt, len(key), c)
	}
	var block cipher.Block
	var err error
	if c == DES3CBC {
		block, err = des.NewTripleDESCipher(key)
	} else {
		block, err = aes.NewCipher(key)
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	if c.Authenticated() {
		var p struct {
			Nonce  []byte
			ICVLen int `asn1:"optional,default:12"`
		}
		if rest, err := asn1.Unmarshal(params, &p); err != nil || len(rest) != 0 {
			return nil, fmt.Errorf("%w: GCM parameters", ErrMalformed)
		}
		if p.ICVLen < 12 || p.ICVLen > 16 || len(p.Nonce) == 0 || len(p.Nonce) > 64 {
			return nil, fmt.Errorf("%w: GCM nonce of %d bytes, tag of %d", ErrUnsupported, len(p.Nonce), p.ICVLen)
		}
		if len(tag) != p.ICVLen {
			return nil, fmt.Errorf("%w: GCM tag of %d bytes, parameters say %d", ErrDecrypt, len(tag), p.ICVLen)
		}
		var aead cipher.AEAD
		if len(p.Nonce) == 12 {
			aead, err = cipher.NewGCMWithTagSize(block, p.ICVLen)
		} else if p.ICVLen == 16 {
			aead, err = cipher.NewGCMWithNonceSize(block, len(p.Nonce))
		} else {
			return nil, fmt.Errorf("%w: GCM nonce of %d bytes with a short tag", ErrUnsupported, len(p.Nonce))
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
		}
		var sealed []byte
		if inPlace && cap(ct)-len(ct) >= len(tag) {
			// The tag moves next to the ciphertext (copy is a memmove:
			// the tag may lie in what it is written over).
			sealed = ct[:len(ct)+len(tag)]
			copy(sealed[len(ct):], tag)
		} else {
			sealed = make([]byte, 0, len(ct)+len(tag))
			sealed = append(append(sealed, ct...), tag...)
		}
		pt, err := aead.Open(sealed[:0], p.Nonce, sealed, aad)
		if err != nil {
			return nil, fmt.Errorf("%w: content authentication failed", ErrDecrypt)
		}
		return pt, nil
	}
	var iv []byte
	if rest, err := asn1.Unmarshal(params, &iv); err != nil || len(rest) != 0 {
		return nil, fmt.Errorf("%w: CBC parameters", ErrMalformed)
	}
	bs := block.BlockSize()
	if len(iv) != bs {
		return nil, fmt.Errorf("%w: IV of %d bytes", ErrMalformed, len(iv))
	}
	if len(ct) == 0 || len(ct)%bs != 0 {
		return nil, fmt.Errorf("%w: ciphertext of %d bytes is not a whole number of blocks", ErrDecrypt, len(ct))
	}
	pt := ct
	if !inPlace {
		pt = make([]byte, len(ct))
	}
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(pt, ct)
	pad := int(pt[len(pt)-1])
	if pad == 0 || pad > bs || subtle.ConstantTimeCompare(pt[len(pt)-pad:], bytes.Repeat([]byte{byte(pad)}, pad)) != 1 {
		return nil, fmt.Errorf("%w: bad padding (wrong key?)", ErrDecrypt)
	}
	return pt[:len(pt)-pad], nil
}
