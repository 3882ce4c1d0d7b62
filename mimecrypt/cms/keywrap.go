package cms

import (
	"crypto/aes"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"hash"
)

var keyWrapIV = []byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}

// wrapKey wraps key under kek with the AES key wrap of RFC 3394.
func wrapKey(kek, key []byte) ([]byte, error) {
	if len(key)%8 != 0 || len(key) < 16 {
		return nil, fmt.Errorf("key wrap: key of %d bytes", len(key))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("key wrap: %w", err)
	}
	n := len(key) / 8
	out := make([]byte, 8+len(key))
	copy(out, keyWrapIV)
	copy(out[8:], key)
	var b [16]byte
	for j := 0; j < 6; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], out[:8])
			copy(b[8:], out[8*i:8*i+8])
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(out[:8], binary.BigEndian.Uint64(b[:8])^t)
			copy(out[8*i:], b[8:])
		}
	}
	return out, nil
}

// unwrapKey reverses wrapKey and checks the integrity value.
func unwrapKey(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped)%8 != 0 || len(wrapped) < 24 {
		return nil, fmt.Errorf("%w: wrapped key of %d bytes", ErrDecrypt, len(wrapped))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrDecrypt, err)
	}
	n := len(wrapped)/8 - 1
	out := make([]byte, len(wrapped))
	copy(out, wrapped)
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(out[:8])^t)
			copy(b[8:], out[8*i:8*i+8])
			block.Decrypt(b[:], b[:])
			copy(out[:8], b[:8])
			copy(out[8*i:], b[8:])
		}
	}
	if subtle.ConstantTimeCompare(out[:8], keyWrapIV) != 1 {
		return nil, fmt.Errorf("%w: key unwrap integrity check failed (wrong key?)", ErrDecrypt)
	}
	return out[8:], nil
}

// x963KDF derives size bytes from the shared secret z with the ANSI X9.63 KDF.
func x963KDF(newHash func() hash.Hash, z, sharedInfo []byte, size int) []byte {
	var out []byte
	var ctr [4]byte
	for i := uint32(1); len(out) < size; i++ {
		binary.BigEndian.PutUint32(ctr[:], i)
		h := newHash()
		h.Write(z)
		h.Write(ctr[:])
		h.Write(sharedInfo)
		out = h.Sum(out)
	}
	return out[:size]
}
