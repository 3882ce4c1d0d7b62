package pgp

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// refChecker is the Checker as it was before it walked the encrypted data a
// line at a time and remembered large data by its hash: it decoded the
// whole armor, and kept each walked value whole. FuzzCheckerAsBefore holds
// the Checker to it; BenchmarkCheckerLarge measures both.
type refChecker struct {
	verified map[string]bool
	key      []byte
	dec      []byte
}

func (c *refChecker) KeyPacketIDs(msg []byte) ([]uint64, error) {
	body, err := armorBody(msg)
	if err != nil {
		return nil, err
	}
	lines := &lineReader{rest: body}
	dec := c.dec[:0]
	decodeLine := func() error {
		l, ok := lines.next()
		if !ok {
			return errTruncatedArmor
		}
		if len(l) == 0 || len(l)%4 != 0 || (!lines.done() && bytes.IndexByte(l, '=') >= 0) {
			return errors.New("malformed armor line")
		}
		n := len(dec)
		dec = append(dec, make([]byte, base64.StdEncoding.DecodedLen(len(l)))...)
		m, err := base64.StdEncoding.Decode(dec[n:], l)
		if err != nil {
			return fmt.Errorf("malformed armor: %v", err)
		}
		dec = dec[:n+m]
		return nil
	}
	// want makes sure n bytes from pos are decoded.
	want := func(pos, n int) error {
		for len(dec) < pos+n {
			if err := decodeLine(); err != nil {
				return err
			}
		}
		return nil
	}
	var ids []uint64
	pos := 0
	for {
		if err := want(pos, 6); err != nil && (err != errTruncatedArmor || len(dec)-pos < 2) { // as the Checker now reads it
			return nil, err // malformed, or too short for any header
		}
		tag, hdr, n, partial, err := packetHeader(dec[pos:])
		if err != nil {
			return nil, err
		}
		if tag == tagSEIPD || tag == tagAEAD {
			break
		}
		if partial {
			return nil, fmt.Errorf("packet of tag %d with a partial length", tag)
		}
		if err := want(pos, hdr+n); err != nil {
			return nil, err
		}
		switch tag {
		case tagPKESK:
			if len(ids) >= maxKeyPackets {
				return nil, fmt.Errorf("more than %d key packets", maxKeyPackets)
			}
			p, err := packet.Read(bytes.NewReader(dec[pos : pos+hdr+n]))
			if err != nil {
				return nil, fmt.Errorf("key packet: %v", err)
			}
			ek, ok := p.(*packet.EncryptedKey)
			if !ok {
				return nil, errors.New("unreadable key packet")
			}
			ids = append(ids, ek.KeyId)
		case tagMarker: // as the Checker now reads it: "PGP" alone
			if string(dec[pos+hdr:pos+hdr+n]) != "PGP" {
				return nil, errors.New("a marker packet that holds more than PGP")
			}
		default: // a padding packet too, as the Checker now reads it
			return nil, fmt.Errorf("unexpected packet of tag %d in an encrypted message", tag)
		}
		pos += hdr + n
	}
	// The encrypted data: its bytes decoded so far, then the lines still
	// armored. Walked once per distinct value.
	c.key = append(append(append(c.key[:0], dec[pos:]...), 0), lines.rest...)
	if c.verified[string(c.key)] {
		c.dec = dec
		return ids, nil
	}
	for !lines.done() {
		if err := decodeLine(); err != nil {
			return nil, err
		}
	}
	c.dec = dec
	if err := walkEncryptedRef(dec[pos:]); err != nil {
		return nil, err
	}
	if c.verified == nil {
		c.verified = map[string]bool{}
	}
	if len(c.verified) < maxVerified {
		c.verified[string(c.key)] = true
	}
	return ids, nil
}

// walkEncryptedRef is walkEncrypted over the whole decoded data.
func walkEncryptedRef(b []byte) error {
	tag, hdr, n, partial, err := packetHeader(b)
	if err != nil {
		return err
	}
	if tag != tagSEIPD && tag != tagAEAD {
		return fmt.Errorf("packet of tag %d where the encrypted data should be", tag)
	}
	if tag == tagSEIPD && (len(b) <= hdr || (b[hdr] != 1 && b[hdr] != 2)) {
		return errors.New("encrypted data packet of an unknown version")
	}
	pos := hdr
	for {
		if n < 0 || n > len(b)-pos {
			return errors.New("truncated encrypted data")
		}
		pos += n
		if !partial {
			break
		}
		size, m, p, err := newLength(b[pos:])
		if err != nil {
			return err
		}
		pos += size
		n, partial = m, p
	}
	if pos != len(b) {
		return errors.New("bytes after the encrypted data")
	}
	return nil
}
