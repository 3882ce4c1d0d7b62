package pgp

import (
	"bytes"
	"crypto/ecdh"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/ProtonMail/go-crypto/openpgp/aes/keywrap"
	pgpecdh "github.com/ProtonMail/go-crypto/openpgp/ecdh"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/cloudflare/circl/dh/x25519"
)

// curve25519OID is the encoded OID (with its length octet) of the legacy
// Curve25519 ECDH keys that GnuPG makes (cv25519, RFC 9580 9.2).
var curve25519OID = []byte{0x0a, 0x2b, 0x06, 0x01, 0x04, 0x01, 0x97, 0x55, 0x01, 0x05, 0x01}

// ephemeral25519 is the one ephemeral Curve25519 key of a Sealed. Every
// subscriber of a post gets the same session key and the same encrypted body,
// so one ephemeral key per post reveals nothing more, and it halves the cost
// of a key packet: one scalar multiplication instead of two (RFC 6637 8 only
// asks the sender to generate an ephemeral key; the KDF binds each result to
// the recipient's fingerprint).
type ephemeral25519 struct {
	once   sync.Once
	scalar x25519.Key // the private key, as circl's X25519 takes it
	vsG    []byte     // 0x40 || public point
	err    error
}

func (e *ephemeral25519) init(rand io.Reader) error {
	e.once.Do(func() {
		priv, err := ecdh.X25519().GenerateKey(rand)
		if err != nil {
			e.err = err
			return
		}
		copy(e.scalar[:], priv.Bytes())
		e.vsG = append([]byte{0x40}, priv.PublicKey().Bytes()...)
	})
	return e.err
}

// shared25519 is X25519(scalar, point) (RFC 7748 5), computed with circl's
// assembly, a quarter quicker than crypto/ecdh's on this project's build
// machine (41 against 56 µs: one per copy of a post); a low-order point,
// whose result is all zeros, is an error, as crypto/ecdh makes it
// (TestShared25519AsECDH holds the two to each other).
func shared25519(scalar *x25519.Key, point []byte) ([]byte, error) {
	if len(point) != x25519.Size {
		return nil, fmt.Errorf("X25519 point of %d bytes", len(point))
	}
	var pub, out x25519.Key
	copy(pub[:], point)
	if !x25519.Shared(&out, scalar, &pub) {
		return nil, errors.New("X25519 point of low order")
	}
	return out[:], nil
}

// keyPacket writes the v3 PKESK for pub carrying the session key: with the
// post's ephemeral key for legacy Curve25519 ECDH keys, through go-crypto
// for every other kind (and for v6 PKESKs).
func (s *Sealed) keyPacket(w *bytes.Buffer, pub *packet.PublicKey, key []byte, aead, hidden bool) error {
	if !aead && pub.PubKeyAlgo == packet.PubKeyAlgoECDH {
		if ep, ok := pub.PublicKey.(*pgpecdh.PublicKey); ok && ep.GetCurve().GetCurveName() == "curve25519" && len(ep.Point) == 32 {
			return s.keyPacket25519(w, pub, ep, key, hidden)
		}
	}
	return packet.SerializeEncryptedKeyAEADwithHiddenOption(w, pub, sealCipher, aead, key, hidden, s.cfg)
}

// keyPacket25519 is RFC 6637 section 8 with the post's ephemeral key.
func (s *Sealed) keyPacket25519(w *bytes.Buffer, pub *packet.PublicKey, ep *pgpecdh.PublicKey, key []byte, hidden bool) error {
	if err := s.eph.init(s.random()); err != nil {
		return fmt.Errorf("ephemeral key: %w", err)
	}
	zb, err := shared25519(&s.eph.scalar, ep.Point)
	if err != nil {
		return fmt.Errorf("ECDH with %X: %w", pub.Fingerprint, err)
	}
	// KDF (RFC 6637 7): Hash(00 00 00 01 || ZB || Param).
	h := ep.KDF.Hash.New()
	h.Write([]byte{0, 0, 0, 1})
	h.Write(zb)
	h.Write(curve25519OID)
	h.Write([]byte{byte(packet.PubKeyAlgoECDH), 3, 1, ep.KDF.Hash.Id(), ep.KDF.Cipher.Id()})
	h.Write([]byte("Anonymous Sender    "))
	h.Write(pub.Fingerprint)
	mb := h.Sum(nil)
	if len(mb) < ep.KDF.Cipher.KeySize() {
		return fmt.Errorf("KDF hash of %X too short for its cipher", pub.Fingerprint)
	}
	// m = cipher || session key || checksum || PKCS#5 padding to 40 octets.
	m := make([]byte, 0, 40)
	m = append(m, byte(sealCipher))
	m = append(m, key...)
	var sum uint16
	for _, b := range key {
		sum += uint16(b)
	}
	m = binary.BigEndian.AppendUint16(m, sum)
	for pad := byte(40 - len(m)); len(m) < 40; {
		m = append(m, pad)
	}
	c, err := keywrap.Wrap(mb[:ep.KDF.Cipher.KeySize()], m)
	if err != nil {
		return fmt.Errorf("wrap session key: %w", err)
	}
	bodyLen := 1 + 8 + 1 + 2 + len(s.eph.vsG) + 1 + len(c)
	if bodyLen >= 192 {
		return fmt.Errorf("key packet of %d bytes", bodyLen)
	}
	w.WriteByte(0xc1) // new format, tag 1
	w.WriteByte(byte(bodyLen))
	w.WriteByte(3)
	var id [8]byte
	if !hidden {
		binary.BigEndian.PutUint64(id[:], pub.KeyId)
	}
	w.Write(id[:])
	w.WriteByte(byte(packet.PubKeyAlgoECDH))
	w.Write([]byte{0x01, 0x07}) // MPI of 263 bits: 0x40 || 32 octets
	w.Write(s.eph.vsG)
	w.WriteByte(byte(len(c)))
	w.Write(c)
	return nil
}
