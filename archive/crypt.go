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
	if len(msg) > MaxMessage {
		return nil, fmt.Errorf("message of %d bytes is larger than %d", len(msg), MaxMessage)
	}
	var armored bytes.Buffer
	aw, err := armor.EncodeWithChecksumOption(&armored, "PGP MESSAGE", nil, false) // RFC 9580 drops the CRC-24; gpg 2.2 reads messages without it
	if err != nil {
		return nil, err
	}
	at := pgp.KeyTime(to, now) // the archive key is made on first use, after now
	cfg := &packet.Config{DefaultCipher: packet.CipherAES256, Time: func() time.Time { return at }}
	w, err := openpgp.Encrypt(aw, []*openpgp.Entity{to}, nil, nil, &openpgp.FileHints{}, cfg)
	if err != nil {
		return nil, fmt.Errorf("encrypt to the archive key: %w", err)
	}
	if _, err := io.WriteString(w, innerHeader); err != nil {
		return nil, err
	}
	if _, err := w.Write(msg); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("encrypt to the archive key: %w", err)
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	rb := make([]byte, 12)
	rand.Read(rb)
	bd := "cloister-archive-" + hex.EncodeToString(rb)
	var b bytes.Buffer
	fmt.Fprintf(&b, "Date: %s\n%s\nSubject: ...\nMIME-Version: 1.0\n", now.UTC().Format(time.RFC1123Z), encryptedMark)
	fmt.Fprintf(&b, "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\";\n boundary=\"%s\"\n\n", bd)
	fmt.Fprintf(&b, "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\n--%s\n", bd)
	fmt.Fprintf(&b, "Content-Type: application/pgp-encrypted\nContent-Description: PGP/MIME version identification\n\nVersion: 1\n\n--%s\n", bd)
	fmt.Fprintf(&b, "Content-Type: application/octet-stream; name=\"encrypted.asc\"\nContent-Disposition: inline; filename=\"encrypted.asc\"\n\n")
	b.Write(armored.Bytes())
	fmt.Fprintf(&b, "\n\n--%s--\n", bd)
	return b.Bytes(), nil
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
