package pgp

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt"
)

// decrypted is the plaintext of one OpenPGP message and, when it was signed
// inside the encryption (RFC 3156 6.2), the signature check.
type decrypted struct {
	plain []byte
	// buf is the buffer plain was decrypted into, plain being its end:
	// decrypt's room in front and plain, with some capacity after, for
	// mergeOver to write the opened message over.
	buf     []byte
	signed  bool
	sig     sigCheck
	literal *packet.LiteralData // its file name and time, for keepInlineSignature
}

// dearmor returns the binary packets of b: b itself when it is not armored,
// else the body of its armor block, which must be of type want.
func dearmor(b []byte, want string) ([]byte, error) {
	if !bytes.Contains(b, []byte("-----BEGIN PGP ")) {
		return b, nil
	}
	blk, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("broken armor: %v: %w", err, mimecrypt.ErrMalformed)
	}
	if blk.Type != want {
		return nil, fmt.Errorf("armor holds %q, not %q: %w", blk.Type, want, mimecrypt.ErrMalformed)
	}
	// Room for the whole decoding at once (base64 is 4 characters for 3
	// bytes): io.ReadAll grows by doubling, holding up to twice a large
	// post and copying it at each step.
	var bin bytes.Buffer
	bin.Grow(len(b)/4*3 + bytes.MinRead)
	if _, err := bin.ReadFrom(io.LimitReader(blk.Body, int64(len(b))+1)); err != nil {
		return nil, fmt.Errorf("broken armor: %v: %w", err, mimecrypt.ErrMalformed)
	}
	return bin.Bytes(), nil
}

// packetSource returns a reader of the binary packets of b, as dearmor
// does but decoding the armor as it is read, and a bound on their length
// (base64 is 4 characters for 3 bytes). Errors in the armor past its
// header come from the reader's Read, wrapped as the reader's user wraps
// them.
func packetSource(b []byte, want string) (io.Reader, int64, error) {
	if !bytes.Contains(b, []byte("-----BEGIN PGP ")) {
		return bytes.NewReader(b), int64(len(b)), nil
	}
	blk, err := armor.Decode(bytes.NewReader(b))
	if err != nil {
		return nil, 0, fmt.Errorf("broken armor: %v: %w", err, mimecrypt.ErrMalformed)
	}
	if blk.Type != want {
		return nil, 0, fmt.Errorf("armor holds %q, not %q: %w", blk.Type, want, mimecrypt.ErrMalformed)
	}
	return blk.Body, int64(len(b)/4*3 + 3), nil
}

// mergeTail is the capacity decrypt leaves after the plaintext for what
// mergeOver appends to it: keepSignature's signature part and closing
// delimiter.
const mergeTail = 4 << 10

// errSignedOnly means the OpenPGP message holds no encryption but is a
// signed (or literal) message: an inline-signed post (gpg --sign -a, sq
// sign, RFC 9580 A.7), which the caller verifies instead.
var errSignedOnly = errors.New("OpenPGP data is signed, not encrypted")

// maxKeyTries bounds the key packets that name a list key or no key
// (hidden recipients): each costs a private-key operation per list key.
const maxKeyTries = 32

// prescan walks the packets (read from bin) in front of the encrypted data without any
// cryptography: it bounds their count, refuses encryption without integrity
// protection, and says whether any key packet is for a list key.
func (o *opener) prescan(bin io.Reader) error {
	r := packet.NewReader(bin)
	keys, tries, ours := 0, 0, false
	for {
		p, err := r.Next()
		if err == io.EOF {
			return fmt.Errorf("no encrypted data after %d key packets: %w", keys, mimecrypt.ErrMalformed)
		}
		if err != nil {
			var unsupported pgperrors.UnsupportedError
			if errors.As(err, &unsupported) {
				if c, ok := aeadCipherIn(unsupported); ok {
					// A SEIPDv2 packet naming, in its clear header,
					// a cipher the library lacks.
					if err := o.keyVerdict(ours); err != nil {
						return err
					}
					return &UnsupportedCipherError{Cipher: cipherName(c), InClear: true}
				}
				keys++
				if keys > o.opts.MaxKeyPackets {
					return fmt.Errorf("more than %d key packets: %w", o.opts.MaxKeyPackets, mimecrypt.ErrTooLarge)
				}
				continue
			}
			return fmt.Errorf("read packets: %v: %w", err, mimecrypt.ErrMalformed)
		}
		switch p := p.(type) {
		case *packet.EncryptedKey:
			keys++
			if p.KeyId == 0 || len(o.opts.ListKeys.KeysById(p.KeyId)) > 0 {
				ours = true
				tries++
				if tries > maxKeyTries {
					return fmt.Errorf("more than %d key packets for the list's keys or hidden: %w", maxKeyTries, mimecrypt.ErrTooLarge)
				}
			}
		case *packet.SymmetricKeyEncrypted:
			keys++
		case *packet.SymmetricallyEncrypted:
			if !p.IntegrityProtected {
				return fmt.Errorf("symmetrically encrypted packet without MDC: %w", mimecrypt.ErrNoIntegrity)
			}
			if err := o.keyVerdict(ours); err != nil {
				return err
			}
			if p.Version == 2 && !p.Cipher.IsSupported() {
				return &UnsupportedCipherError{Cipher: cipherName(p.Cipher), InClear: true}
			}
			return nil
		case *packet.AEADEncrypted:
			return o.keyVerdict(ours)
		case *packet.Marker:
		case *packet.OnePassSignature, *packet.Signature, *packet.Compressed, *packet.LiteralData:
			return fmt.Errorf("%w (found %T first)", errSignedOnly, p)
		default:
			return fmt.Errorf("OpenPGP data is not encrypted (found %T first): %w", p, mimecrypt.ErrMalformed)
		}
		if keys > o.opts.MaxKeyPackets {
			return fmt.Errorf("more than %d key packets: %w", o.opts.MaxKeyPackets, mimecrypt.ErrTooLarge)
		}
	}
}

func (o *opener) keyVerdict(ours bool) error {
	if !ours {
		return mimecrypt.ErrNoKey
	}
	return nil
}

// decrypt opens one OpenPGP message (armored or binary) with the list keys,
// reading the plaintext to its end within the size bound before trusting it.
// The plaintext is written into a buffer with front bytes of room in front
// of it (and some after it), so that the opened message can be written
// over it (mergeOver) instead of beside it.
//
// The packets are read from the armor as it is decoded, once for the
// prescan and once for the decryption, and never held whole in binary: for
// a large post that copy would sit beside the armored message and its
// plaintext.
func (o *opener) decrypt(data []byte, front int) (*decrypted, error) {
	src, size, err := packetSource(data, "PGP MESSAGE")
	if err != nil {
		return nil, err
	}
	if err := o.prescan(src); err != nil {
		return nil, err
	}
	if src, _, err = packetSource(data, "PGP MESSAGE"); err != nil {
		return nil, err
	}
	md, err := openpgp.ReadMessage(src, o.ring, nil, o.cfg)
	if err != nil {
		if errors.Is(err, pgperrors.ErrKeyIncorrect) {
			again, _, aerr := packetSource(data, "PGP MESSAGE")
			if aerr != nil {
				return nil, aerr
			}
			if uerr := o.unsupportedSessionCipher(again); uerr != nil {
				return nil, uerr
			}
			return nil, mimecrypt.ErrNoKey
		}
		return nil, fmt.Errorf("decrypt: %v: %w", err, mimecrypt.ErrMalformed)
	}
	if !md.IsEncrypted {
		return nil, fmt.Errorf("OpenPGP data is not encrypted: %w", mimecrypt.ErrMalformed)
	}
	// Uncompressed, the plaintext is smaller than the message: room for
	// it at once (a compressed one grows past it as it must), after the
	// room in front and with mergeTail to spare.
	buf := bytes.NewBuffer(make([]byte, front, front+int(min(size, o.opts.MaxDecompressed))+mergeTail+bytes.MinRead))
	lim := &io.LimitedReader{R: md.UnverifiedBody, N: o.opts.MaxDecompressed + 1}
	n, err := io.Copy(buf, lim)
	if n > o.opts.MaxDecompressed {
		return nil, fmt.Errorf("plaintext larger than %d bytes: %w", o.opts.MaxDecompressed, mimecrypt.ErrTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("decrypt: encrypted data is damaged or was modified (%v): %w", err, mimecrypt.ErrMalformed)
	}
	// The rest of the armor, read to its end: a broken line or checksum
	// past the packets refuses the message, as when it was decoded whole.
	if _, err := io.Copy(io.Discard, src); err != nil {
		return nil, fmt.Errorf("broken armor: %v: %w", err, mimecrypt.ErrMalformed)
	}
	d := &decrypted{plain: buf.Bytes()[front:], buf: buf.Bytes(), literal: md.LiteralData}
	if md.IsSigned {
		d.signed = true
		d.sig = o.judge(md)
	}
	return d, nil
}

// verifySigned checks an inline-signed OpenPGP message (one-pass signature,
// literal data, signature; possibly compressed), reading the literal data
// to its end within the size bound before judging the signature.
func (o *opener) verifySigned(data []byte) sigCheck {
	bin, err := dearmor(data, "PGP MESSAGE")
	if err != nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signed message cannot be read"}
	}
	if n := countPackets(bin, 64); n > 32 {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signed message holds too many packets"}
	}
	md, err := openpgp.ReadMessage(bytes.NewReader(bin), o.ring, nil, o.cfg)
	if err != nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signed message cannot be read: " + plainError(err)}
	}
	if md.IsEncrypted {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signed message holds encrypted data"}
	}
	lim := &io.LimitedReader{R: md.UnverifiedBody, N: o.opts.MaxDecompressed + 1}
	n, err := io.Copy(io.Discard, lim)
	if n > o.opts.MaxDecompressed {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signed message exceeds a size limit"}
	}
	if err != nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signed message cannot be checked: " + plainError(err)}
	}
	if !md.IsSigned {
		return sigCheck{verdict: mimecrypt.VerdictNone, reason: "the OpenPGP message is neither signed nor encrypted"}
	}
	return o.judge(md)
}
