package archive

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mimecrypt/pgp"
)

// MaxMessage bounds one archived message (stored or decrypted).
const MaxMessage = 64 << 20

// innerHeader wraps the archived message inside the encryption, so that
// the decrypted entity is a MIME entity (RFC 3156) a mail client shows as
// the attached post.
const innerHeader = "Content-Type: message/rfc822\r\nContent-Disposition: inline\r\n\r\n"

// encryptedMark is a header field of every encrypted archive file.
const encryptedMark = "X-Cloister-Archive: encrypted"

// ErrEncrypted means an archived message is encrypted and no archive key
// was given to read it.
var ErrEncrypted = errors.New("the archived message is encrypted to the archive key")

// Encrypt returns msg as a PGP/MIME message (RFC 3156) encrypted to the
// archive key: its outer header says nothing of the post (no From, no
// Subject, the archive time as Date), and the encrypted entity is the post
// as message/rfc822, byte for byte.
func Encrypt(msg []byte, to *openpgp.Entity, now time.Time) ([]byte, error) {
	var b bytes.Buffer
	b.Grow(len(msg)*4/3 + len(msg)/32 + 4096) // the armor: base64, line ends, packet headers
	if err := EncryptTo(&b, msg, to, now); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// EncryptTo writes what Encrypt returns to w as it is made, holding no
// copy of msg: an archive's file is written straight from the post.
func EncryptTo(w io.Writer, msg []byte, to *openpgp.Entity, now time.Time) error {
	if len(msg) > MaxMessage {
		return fmt.Errorf("message of %d bytes is larger than %d", len(msg), MaxMessage)
	}
	at := pgp.KeyTime(to, now) // the archive key is made on first use, after now
	cfg := &packet.Config{DefaultCipher: packet.CipherAES256, Time: func() time.Time { return at }}
	rb := make([]byte, 12)
	rand.Read(rb)
	bd := "cloister-archive-" + hex.EncodeToString(rb)
	ew := &errWriter{w: w}
	fmt.Fprintf(ew, "Date: %s\n%s\nSubject: ...\nMIME-Version: 1.0\n", now.UTC().Format(time.RFC1123Z), encryptedMark)
	fmt.Fprintf(ew, "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\n boundary=\"%s\"\n\n", bd)
	fmt.Fprintf(ew, "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n--%s\n", bd)
	fmt.Fprintf(ew, "Content-Type: application/pgp-encrypted\nContent-Description: PGP/MIME version identification\n\nVersion: 1\n\n--%s\n", bd)
	fmt.Fprintf(ew, "Content-Type: application/octet-stream; name=\"encrypted.asc\"\nContent-Disposition: inline; filename=\"encrypted.asc\"\n\n")
	aw, err := armor.EncodeWithChecksumOption(ew, "PGP MESSAGE", nil, false) // RFC 9580 drops the CRC-24; gpg 2.2 reads messages without it
	if err != nil {
		return err
	}
	pw, err := openpgp.Encrypt(aw, []*openpgp.Entity{to}, nil, nil, &openpgp.FileHints{}, cfg)
	if err != nil {
		return fmt.Errorf("encrypt to the archive key: %w", err)
	}
	if _, err := io.WriteString(pw, innerHeader); err != nil {
		return err
	}
	// In chunks: the library's writers copy what one Write gives them (the
	// cipher stream into a new slice, the packet writer into a buffer).
	for rest := msg; len(rest) > 0; {
		n := min(len(rest), 64<<10)
		if _, err := pw.Write(rest[:n]); err != nil {
			return err
		}
		rest = rest[n:]
	}
	if err := pw.Close(); err != nil {
		return fmt.Errorf("encrypt to the archive key: %w", err)
	}
	if err := aw.Close(); err != nil {
		return err
	}
	fmt.Fprintf(ew, "\n\n--%s--\n", bd)
	return ew.err
}

// errWriter keeps the first error of w and writes nothing after it.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) Write(p []byte) (int, error) {
	if e.err != nil {
		return 0, e.err
	}
	n, err := e.w.Write(p)
	e.err = err
	return n, err
}

// IsEncrypted reports whether stored archive bytes are an encrypted entry.
func IsEncrypted(stored []byte) bool {
	head := stored
	if i := bytes.Index(head, []byte("\n\n")); i >= 0 {
		head = head[:i]
	}
	return bytes.Contains(head, []byte(encryptedMark))
}

// Decrypt returns the archived message of an encrypted entry, exactly as it
// was archived, with the archive's secret key. It refuses data that is not
// encrypted or has no integrity protection, and plaintext over MaxMessage.
func Decrypt(stored []byte, key *openpgp.Entity) ([]byte, error) {
	start := bytes.Index(stored, []byte("-----BEGIN PGP MESSAGE-----"))
	if start < 0 {
		return nil, errors.New("decrypt archived message: no OpenPGP message in it")
	}
	blk, err := armor.Decode(bytes.NewReader(stored[start:]))
	if err != nil {
		return nil, fmt.Errorf("decrypt archived message: %w", err)
	}
	limit := int64(MaxMessage + len(innerHeader) + 1<<16)
	cfg := &packet.Config{MaxDecompressedMessageSize: &limit}
	md, err := openpgp.ReadMessage(blk.Body, openpgp.EntityList{key}, nil, cfg)
	if err != nil {
		return nil, fmt.Errorf("decrypt archived message: %w", err)
	}
	if !md.IsEncrypted {
		return nil, errors.New("decrypt archived message: it is not encrypted")
	}
	pt, err := io.ReadAll(io.LimitReader(md.UnverifiedBody, limit+1))
	if err != nil {
		return nil, fmt.Errorf("decrypt archived message: %w", err)
	}
	if int64(len(pt)) > limit {
		return nil, fmt.Errorf("decrypt archived message: larger than %d bytes", MaxMessage)
	}
	if md.SignatureError != nil {
		return nil, fmt.Errorf("decrypt archived message: %w", md.SignatureError)
	}
	msg, ok := bytes.CutPrefix(pt, []byte(innerHeader))
	if !ok {
		return nil, errors.New("decrypt archived message: unexpected content")
	}
	return msg, nil
}
