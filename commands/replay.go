package commands

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	"github.com/smallstep/pkcs7"

	"cloister/mailmsg/rawmime"
)

// Signature identifies the signature that authorized a command mail. The
// replay store counts signatures by the identity the verifier computed
// (queue.Meta.SignatureID); Digest stands in only for entries queued without
// one.
type Signature struct {
	// Digest is the SHA-256 of the signature bytes, or (when the signature
	// is no longer in the opened message, as inside an encryption) of the
	// signer's fingerprint and the signed content.
	Digest string
	// Created is the signature's creation time when it could be read.
	Created time.Time
}

// SignatureOf finds the signature of an opened command mail: the second
// part of a top-level multipart/signed, or a clear-signed block in the text.
func SignatureOf(msg []byte, signerFpr string) Signature {
	ent, err := rawmime.Parse(msg)
	if err == nil {
		if mt, params, _ := ent.MediaType(); mt == "multipart/signed" {
			parts, _ := rawmime.SplitMultipart(ent.Body, params["boundary"], maxParts)
			if len(parts) == 2 {
				if sp, err := rawmime.Parse(parts[1]); err == nil {
					if sig, t, ok := signatureBytes(sp); ok {
						return Signature{Digest: digest("sig", sig), Created: t}
					}
				}
			}
		}
		if text, err := TextBody(msg); err == nil {
			if sig, t, ok := clearSignature(text); ok {
				return Signature{Digest: digest("sig", sig), Created: t}
			}
		}
		return Signature{Digest: digest("content", []byte(signerFpr), ent.Body)}
	}
	return Signature{Digest: digest("content", []byte(signerFpr), msg)}
}

func digest(kind string, parts ...[]byte) string {
	h := sha256.New()
	h.Write([]byte(kind))
	for _, p := range parts {
		h.Write([]byte{0})
		h.Write(p)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// signatureBytes decodes a signature part (OpenPGP armor, or S/MIME base64)
// and reads an OpenPGP signature's creation time.
func signatureBytes(sp *rawmime.Entity) ([]byte, time.Time, bool) {
	mt, _, _ := sp.MediaType()
	switch mt {
	case "application/pgp-signature":
		blk, err := armor.Decode(bytes.NewReader(sp.Body))
		if err != nil {
			return nil, time.Time{}, false
		}
		var b bytes.Buffer
		if _, err := b.ReadFrom(limited(blk.Body)); err != nil {
			return nil, time.Time{}, false
		}
		return b.Bytes(), pgpCreated(b.Bytes()), true
	case "application/pkcs7-signature", "application/x-pkcs7-signature":
		der, err := rawmime.Decode("base64", sp.Body, 0)
		if err != nil {
			return nil, time.Time{}, false
		}
		return der, smimeSigningTime(der), true
	}
	return nil, time.Time{}, false
}

// smimeSigningTime reads the signingTime attribute of an S/MIME signature
// (zero when it has none), so that the age window applies to S/MIME-signed
// commands too.
func smimeSigningTime(der []byte) time.Time {
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return time.Time{}
	}
	var t time.Time
	if err := p7.UnmarshalSignedAttribute(pkcs7.OIDAttributeSigningTime, &t); err != nil {
		return time.Time{}
	}
	return t
}

// clearSignature returns the signature of a clear-signed block.
func clearSignature(text []byte) ([]byte, time.Time, bool) {
	i := bytes.Index(text, []byte("-----BEGIN PGP SIGNATURE-----"))
	if i < 0 || !bytes.Contains(text[:i], []byte("-----BEGIN PGP SIGNED MESSAGE-----")) {
		return nil, time.Time{}, false
	}
	blk, err := armor.Decode(bytes.NewReader(text[i:]))
	if err != nil {
		return nil, time.Time{}, false
	}
	var b bytes.Buffer
	if _, err := b.ReadFrom(limited(blk.Body)); err != nil {
		return nil, time.Time{}, false
	}
	return b.Bytes(), pgpCreated(b.Bytes()), true
}

type limitReader struct {
	r interface{ Read([]byte) (int, error) }
	n int
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, fmt.Errorf("signature larger than 64 KiB")
	}
	if len(p) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= n
	return n, err
}

func limited(r interface{ Read([]byte) (int, error) }) *limitReader { return &limitReader{r, 64 << 10} }

// pgpCreated reads the creation time of the first OpenPGP signature packet.
func pgpCreated(sig []byte) time.Time {
	p, err := packet.Read(bytes.NewReader(sig))
	if err != nil {
		return time.Time{}
	}
	if s, ok := p.(*packet.Signature); ok {
		return s.CreationTime
	}
	return time.Time{}
}
