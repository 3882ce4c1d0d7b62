package cms

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"io"
	"slices"
)

// EncryptOptions chooses the algorithms of an Envelope.
type EncryptOptions struct {
	Cipher       Cipher       // content encryption; zero means AES256CBC. DES3CBC is refused.
	KeyTransport KeyTransport // for RSA recipients; zero means RSAPKCS1v15
	Rand         io.Reader    // randomness; nil means crypto/rand
}

// Envelope is content encrypted once under a fresh content-encryption key,
// ready to be addressed to any set of recipients: each call to For or
// RecipientInfo encrypts only that key again.
type Envelope struct {
	opts EncryptOptions
	cek  []byte
	eci  []byte // DER EncryptedContentInfo
	mac  []byte // GCM tag (AuthEnvelopedData only)
	oid  []byte // DER content type of the outer ContentInfo

	tailBytes []byte // eci and mac, built once; read-only so copies may be made concurrently
}

// Encrypt encrypts content (of type id-data) once and returns the Envelope.
func Encrypt(content []byte, opts EncryptOptions) (*Envelope, error) {
	if opts.Cipher == 0 {
		opts.Cipher = AES256CBC
	}
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	switch opts.Cipher {
	case AES128CBC, AES192CBC, AES256CBC, AES128GCM, AES192GCM, AES256GCM:
	default:
		return nil, fmt.Errorf("%w: %v is not written", ErrUnsupported, opts.Cipher)
	}
	if opts.KeyTransport != RSAPKCS1v15 && opts.KeyTransport != RSAOAEP {
		return nil, fmt.Errorf("%w: key transport %d", ErrUnsupported, opts.KeyTransport)
	}
	cek := make([]byte, opts.Cipher.KeySize())
	if _, err := io.ReadFull(opts.Rand, cek); err != nil {
		return nil, fmt.Errorf("content key: %w", err)
	}
	alg, ct, tag, err := sealContent(opts.Cipher, cek, content, opts.Rand)
	if err != nil {
		return nil, err
	}
	e := &Envelope{opts: opts, cek: cek, mac: tag}
	e.eci = tlv(0x30, mustMarshal(OIDData), alg, tlv(0x80, ct))
	e.tailBytes = e.eci
	if opts.Cipher.Authenticated() {
		e.oid = mustMarshal(OIDAuthEnvelopedData)
		e.tailBytes = append(append([]byte(nil), e.eci...), tlv(0x04, e.mac)...)
	} else {
		e.oid = mustMarshal(OIDEnvelopedData)
	}
	return e, nil
}

// RecipientInfo returns the DER RecipientInfo that gives cert's holder the
// content key: KeyTransRecipientInfo for RSA, KeyAgreeRecipientInfo (ECDH,
// dhSinglePass-stdDH-sha256kdf-scheme, AES key wrap) for EC keys on NIST
// curves and for X25519 keys (RFC 8410 certificates, RFC 8418).
func (e *Envelope) RecipientInfo(cert *x509.Certificate) ([]byte, error) {
	switch pub := cert.PublicKey.(type) {
	case *rsa.PublicKey:
		return keyTransRecipientInfo(cert, pub, e.cek, e.opts.KeyTransport, e.opts.Rand)
	}
	pub, ok, err := ecdhPublic(cert)
	if err != nil {
		return nil, err
	}
	if ok {
		return keyAgreeRecipientInfo(cert, pub, e.cek, e.opts.Rand)
	}
	if cert.PublicKey == nil {
		return nil, fmt.Errorf("%w: cannot encrypt to the certificate's key, of an algorithm this package does not read", ErrUnsupported)
	}
	return nil, fmt.Errorf("%w: cannot encrypt to a %T key", ErrUnsupported, cert.PublicKey)
}

// Marshal returns the DER ContentInfo (EnvelopedData, or AuthEnvelopedData for
// GCM) carrying the given RecipientInfos and the content encrypted once. It is
// Head followed by Tail.
func (e *Envelope) Marshal(recipientInfos ...[]byte) ([]byte, error) {
	head, err := e.Head(recipientInfos...)
	if err != nil {
		return nil, err
	}
	out := make([]byte, len(head), len(head)+len(e.tail()))
	copy(out, head)
	return append(out, e.tail()...), nil
}

// Tail returns the end of every marshalled copy, the same for all recipients:
// the encrypted content (and the GCM tag). Callers that encode many copies can
// encode it once. The slice must not be modified.
func (e *Envelope) Tail() []byte { return e.tail() }

func (e *Envelope) tail() []byte { return e.tailBytes }

// Head returns the start of the DER ContentInfo carrying the given
// RecipientInfos, up to the encrypted content: Head(ris...) followed by Tail()
// is the whole object.
func (e *Envelope) Head(recipientInfos ...[]byte) ([]byte, error) {
	if len(recipientInfos) == 0 {
		return nil, fmt.Errorf("cms: an envelope needs at least one recipient")
	}
	if len(recipientInfos) > MaxRecipients {
		return nil, fmt.Errorf("%w: %d recipients", ErrTooLarge, len(recipientInfos))
	}
	ris := recipientInfos
	if len(ris) > 1 { // DER orders a SET OF by encoding
		ris = slices.Clone(ris)
		slices.SortFunc(ris, bytes.Compare)
	}
	version := version0 // AuthEnvelopedData is always v0
	if !e.opts.Cipher.Authenticated() {
		for _, ri := range ris {
			if len(ri) == 0 || ri[0] != 0x30 {
				version = version2 // kari (or other choices) make EnvelopedData v2
			}
		}
	}
	setLen := 0
	for _, ri := range ris {
		setLen += len(ri)
	}
	tail := e.tail()
	innerLen := len(version) + hdrLen(setLen) + setLen + len(tail)
	seqLen := hdrLen(innerLen) + innerLen
	ciLen := len(e.oid) + hdrLen(seqLen) + seqLen
	out := make([]byte, 0, hdrLen(ciLen)+ciLen-len(tail))
	out = append(out, 0x30)
	out = appendLength(out, ciLen)
	out = append(out, e.oid...)
	out = append(out, 0xa0)
	out = appendLength(out, seqLen)
	out = append(out, 0x30)
	out = appendLength(out, innerLen)
	out = append(out, version...)
	out = append(out, 0x31)
	out = appendLength(out, setLen)
	for _, ri := range ris {
		out = append(out, ri...)
	}
	return out, nil
}

// For returns the DER ContentInfo addressed to certs, one RecipientInfo each.
func (e *Envelope) For(certs ...*x509.Certificate) ([]byte, error) {
	ris := make([][]byte, 0, len(certs))
	for _, c := range certs {
		ri, err := e.RecipientInfo(c)
		if err != nil {
			return nil, fmt.Errorf("recipient %s: %w", c.Subject, err)
		}
		ris = append(ris, ri)
	}
	return e.Marshal(ris...)
}

// hdrLen returns the size of a one-byte tag plus the DER length of n.
func hdrLen(n int) int {
	return len(appendLength(make([]byte, 0, 5), n)) + 1
}
