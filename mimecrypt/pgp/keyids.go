package pgp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// maxKeyPackets bounds the key packets KeyPacketIDs reads.
const maxKeyPackets = 10000

// KeyPacketIDs returns the key IDs that the public-key encrypted session key
// packets of an OpenPGP message name, in order (0 for a hidden recipient).
// msg is the armored message (nothing but whitespace around its armor) or
// its binary packets. The message must be key packets followed by one
// integrity-protected encrypted data packet (SEIPD v1 or v2) and nothing
// else: a packet of any other kind (literal data, a password-encrypted
// session key, compressed data) is an error.
func KeyPacketIDs(msg []byte) ([]uint64, error) {
	bin := msg
	if t := bytes.TrimSpace(msg); bytes.HasPrefix(t, []byte("-----BEGIN PGP ")) {
		if !bytes.HasSuffix(t, []byte("-----")) || bytes.Count(t, []byte("-----BEGIN PGP ")) != 1 {
			return nil, errors.New("text around the armor of the encrypted message")
		}
		var err error
		if bin, err = dearmor(t, "PGP MESSAGE"); err != nil {
			return nil, err
		}
	} else if bytes.Contains(msg, []byte("-----BEGIN PGP ")) {
		return nil, errors.New("text in front of the armor of the encrypted message")
	}
	r := packet.NewReader(bytes.NewReader(bin))
	var ids []uint64
	for {
		p, err := r.Next()
		if err == io.EOF {
			return nil, errors.New("no encrypted data packet")
		}
		if err != nil {
			return nil, fmt.Errorf("read packet: %w", err)
		}
		var contents io.Reader
		switch p := p.(type) {
		case *packet.EncryptedKey:
			if len(ids) >= maxKeyPackets {
				return nil, fmt.Errorf("more than %d key packets", maxKeyPackets)
			}
			ids = append(ids, p.KeyId)
			continue
		case *packet.SymmetricallyEncrypted:
			if !p.IntegrityProtected {
				return nil, errors.New("encrypted data without integrity protection")
			}
			contents = p.Contents
		case *packet.AEADEncrypted:
			contents = p.Contents
		default:
			return nil, fmt.Errorf("unexpected %T packet in an encrypted message", p)
		}
		if _, err := io.Copy(io.Discard, contents); err != nil {
			return nil, fmt.Errorf("read encrypted data: %w", err)
		}
		if _, err := r.Next(); err != io.EOF {
			return nil, errors.New("packets after the encrypted data")
		}
		return ids, nil
	}
}

// EncryptionKeyID returns the key ID of the (sub)key that mail to e is
// encrypted to at now: the key whose ID a key packet for e names.
func EncryptionKeyID(e *openpgp.Entity, now time.Time) (uint64, error) {
	k, _, err := EncryptionKey(e, now, &packet.Config{Time: func() time.Time { return now }})
	if err != nil {
		return 0, err
	}
	return k.PublicKey.KeyId, nil
}
