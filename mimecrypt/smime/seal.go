package smime

import (
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"io"
	"sync"

	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/cms"
)

// SealOptions chooses the algorithms of a Sealed message.
type SealOptions struct {
	// Cipher is the content encryption: cms.AES256CBC (the default, read by
	// every client, as enveloped-data) or cms.AES256GCM (authEnveloped-data,
	// RFC 8551's MUST, for smime_cipher = aes256-gcm). DES and 3DES are refused.
	Cipher cms.Cipher
	// KeyTransport is used for RSA recipients: cms.RSAPKCS1v15 (default) or
	// cms.RSAOAEP (SHA-256). EC recipients always get ECDH key agreement.
	KeyTransport cms.KeyTransport
	// Rand is the randomness source; nil means crypto/rand.
	Rand io.Reader
}

// Sealed is a MIME entity encrypted once, from which a per-recipient
// application/pkcs7-mime entity is made for each subscriber, carrying only
// that subscriber's RecipientInfo. It is safe for concurrent use.
type Sealed struct {
	env    *cms.Envelope
	header string
	// tail64 holds, for k = 0, 1, 2, the base64 lines of the envelope's
	// constant tail after its first k bytes, so that each copy encodes only
	// its own head; each is made when a copy first needs it (copies to
	// recipients of one kind of key all need the same one: a large post is
	// not held three times in base64).
	tail64 [3][]byte
	once   [3]sync.Once
}

// Seal encrypts inner, a MIME entity (header fields, blank line, body), once.
// It is put in canonical CRLF form first.
func Seal(inner []byte, opts SealOptions) (*Sealed, error) {
	c := opts.Cipher
	if c == 0 {
		c = cms.AES256CBC
	}
	env, err := cms.Encrypt(rawmime.Canonical(inner), cms.EncryptOptions{Cipher: c, KeyTransport: opts.KeyTransport, Rand: opts.Rand})
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	kind := "enveloped-data"
	if c.Authenticated() {
		kind = "authEnveloped-data"
	}
	s := &Sealed{env: env, header: "Content-Type: application/pkcs7-mime; smime-type=" + kind + ";\r\n" +
		" name=\"smime.p7m\"\r\n" +
		"Content-Transfer-Encoding: base64\r\n" +
		"Content-Disposition: attachment; filename=\"smime.p7m\"\r\n" +
		"Content-Description: S/MIME Encrypted Message\r\n\r\n"}
	return s, nil
}

// tail returns the base64 lines of the envelope's tail after its first k
// bytes, made on first use.
func (s *Sealed) tail(k int) []byte {
	s.once[k].Do(func() {
		if tail := s.env.Tail(); k <= len(tail) {
			s.tail64[k] = base64Lines(tail[k:])
		}
	})
	return s.tail64[k]
}

// For returns the application/pkcs7-mime entity addressed to certs (normally
// one subscriber's encryption certificate). The caller puts the message's own
// header fields above it. Each certificate is checked with CanEncryptTo.
func (s *Sealed) For(certs ...*x509.Certificate) ([]byte, error) {
	return s.AppendFor(nil, certs...)
}

// AppendFor appends what For returns to dst (the copy's own header fields,
// say), growing it once to the copy's size.
func (s *Sealed) AppendFor(dst []byte, certs ...*x509.Certificate) ([]byte, error) {
	first, k, err := s.head(certs)
	if err != nil {
		return nil, err
	}
	tail := s.tail(k)
	out := append(make([]byte, 0, len(dst)+len(s.header)+len(first)+len(tail)), dst...)
	out = append(out, s.header...)
	out = append(out, first...)
	return append(out, tail...), nil
}

// PiecesFor returns what For returns in two pieces: the copy's own head
// (the entity's header fields and the base64 lines of its RecipientInfos)
// and the base64 lines of the shared tail, the same slice for every copy
// whose head leaves it at the same alignment (at most three distinct ones
// per Sealed), which the caller must not modify.
func (s *Sealed) PiecesFor(certs ...*x509.Certificate) (head, tail []byte, err error) {
	first, k, err := s.head(certs)
	if err != nil {
		return nil, nil, err
	}
	head = append(append(make([]byte, 0, len(s.header)+len(first)), s.header...), first...)
	return head, s.tail(k), nil
}

// WriteFor writes what For returns to w without building it in memory: the
// encrypted content, shared by all copies, is written from the one encoding
// made by Seal.
func (s *Sealed) WriteFor(w io.Writer, certs ...*x509.Certificate) (int64, error) {
	first, k, err := s.head(certs)
	if err != nil {
		return 0, err
	}
	var total int64
	for _, b := range [][]byte{[]byte(s.header), first, s.tail(k)} {
		n, err := w.Write(b)
		total += int64(n)
		if err != nil {
			return total, fmt.Errorf("seal: write: %w", err)
		}
	}
	return total, nil
}

// head returns the base64 lines of the copy's own start (its RecipientInfos
// plus the first k tail bytes, so that it ends on a 3-byte boundary) and k,
// which selects the precomputed encoding of the rest of the tail.
func (s *Sealed) head(certs []*x509.Certificate) ([]byte, int, error) {
	if len(certs) == 0 {
		return nil, 0, fmt.Errorf("seal: no recipient")
	}
	ris := make([][]byte, 0, len(certs))
	for _, c := range certs {
		if err := CanEncryptTo(c); err != nil {
			return nil, 0, fmt.Errorf("seal for %s: %w", c.Subject, err)
		}
		ri, err := s.env.RecipientInfo(c)
		if err != nil {
			return nil, 0, fmt.Errorf("seal for %s: %w", c.Subject, err)
		}
		ris = append(ris, ri)
	}
	head, err := s.env.Head(ris...)
	if err != nil {
		return nil, 0, fmt.Errorf("seal: %w", err)
	}
	tail := s.env.Tail()
	k := min((3-len(head)%3)%3, len(tail))
	first := make([]byte, 0, len(head)+k)
	first = append(append(first, head...), tail[:k]...)
	return base64Lines(first), k, nil
}

// base64Lines returns the base64 encoding of b in lines of at most 76
// characters, each ending in CRLF. When len(b) is a multiple of 3 the
// encoding has no padding, so such pieces may be concatenated.
func base64Lines(b []byte) []byte {
	const lineBytes = 57 // 76 characters
	n := base64.StdEncoding.EncodedLen(len(b))
	out := make([]byte, 0, n+(n/76+1)*2)
	for len(b) > 0 {
		chunk := b
		if len(chunk) > lineBytes {
			chunk = chunk[:lineBytes]
		}
		out = base64.StdEncoding.AppendEncode(out, chunk)
		out = append(out, '\r', '\n')
		b = b[len(chunk):]
	}
	return out
}
