package testca

// Re-encodings of a CMS signature that need no key: what an attacker who
// captured a signed message can change while the signature still verifies.

import (
	"bytes"
	"encoding/asn1"
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/cms"
)

// SignaturePart returns the DER of the signature part of an openssl
// multipart/signed message, and the base64 text it was read from.
func SignaturePart(t testing.TB, msg []byte) (der []byte, b64 []byte) {
	t.Helper()
	ent, err := rawmime.Parse(msg)
	if err != nil {
		t.Fatal(err)
	}
	_, params, _ := ent.MediaType()
	parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], 3)
	if err != nil || len(parts) != 2 {
		t.Fatalf("split multipart/signed: %v (%d parts)", err, len(parts))
	}
	sp, err := rawmime.Parse(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	b64 = bytes.TrimSpace(sp.Body)
	raw, err := base64.StdEncoding.DecodeString(string(bytes.Join(bytes.Fields(b64), nil)))
	if err != nil {
		t.Fatal(err)
	}
	if der, err = cms.Normalize(raw); err != nil {
		t.Fatal(err)
	}
	return der, b64
}

// WithSignature puts der in place of the signature part's base64 text.
func WithSignature(msg, oldB64, der []byte) []byte {
	enc := base64.StdEncoding.EncodeToString(der)
	var lines []string
	for len(enc) > 64 {
		lines = append(lines, enc[:64])
		enc = enc[64:]
	}
	lines = append(lines, enc)
	return bytes.Replace(msg, oldB64, []byte(strings.Join(lines, "\n")), 1)
}

// signedDataElements splits a DER ContentInfo holding SignedData into the
// SignedData's elements (version, digest algorithms, content, [0]
// certificates, ..., signer infos).
func signedDataElements(t testing.TB, der []byte) (oid []byte, elems [][]byte) {
	t.Helper()
	s := cryptobyte.String(der)
	var ci, explicit, sd cryptobyte.String
	var o cryptobyte.String
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1Element(&o, cbasn1.OBJECT_IDENTIFIER) ||
		!ci.ReadASN1(&explicit, cbasn1.Tag(0).Constructed().ContextSpecific()) || !explicit.ReadASN1(&sd, cbasn1.SEQUENCE) {
		t.Fatal("not a ContentInfo with SignedData")
	}
	for !sd.Empty() {
		var el cryptobyte.String
		var tag cbasn1.Tag
		if !sd.ReadAnyASN1Element(&el, &tag) {
			t.Fatal("bad SignedData element")
		}
		elems = append(elems, el)
	}
	return o, elems
}

// contentInfo joins SignedData elements back into a DER ContentInfo.
func contentInfo(t testing.TB, oid []byte, elems [][]byte) []byte {
	t.Helper()
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
		b.AddBytes(oid)
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
				for _, e := range elems {
					b.AddBytes(e)
				}
			})
		})
	})
	out, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// inner returns the content of a DER element (after its header).
func inner(t testing.TB, el []byte) []byte {
	t.Helper()
	s := cryptobyte.String(el)
	var c cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&c, &tag) {
		t.Fatal("bad element")
	}
	return c
}

// AddUnsignedAttribute appends an unsigned attribute to the first SignerInfo.
func AddUnsignedAttribute(t testing.TB, der []byte) []byte {
	t.Helper()
	oid, elems := signedDataElements(t, der)
	infos := cryptobyte.String(inner(t, elems[len(elems)-1]))
	var si cryptobyte.String
	if !infos.ReadASN1Element(&si, cbasn1.SEQUENCE) {
		t.Fatal("no SignerInfo")
	}
	others := []byte(infos)
	var b cryptobyte.Builder
	b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
		b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
			b.AddBytes(inner(t, si))
			b.AddASN1(cbasn1.Tag(1).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
				b.AddASN1(cbasn1.SEQUENCE, func(b *cryptobyte.Builder) {
					b.AddASN1ObjectIdentifier(asn1.ObjectIdentifier{1, 3, 6, 1, 4, 1, 99999, 1})
					b.AddASN1(cbasn1.SET, func(b *cryptobyte.Builder) {
						b.AddASN1(cbasn1.UTF8String, func(b *cryptobyte.Builder) { b.AddBytes([]byte("replayed")) })
					})
				})
			})
		})
		b.AddBytes(others)
	})
	set, err := b.Bytes()
	if err != nil {
		t.Fatal(err)
	}
	elems[len(elems)-1] = set
	return contentInfo(t, oid, elems)
}

// AddCertificate adds a certificate (DER) to the SignedData's certificate set.
func AddCertificate(t testing.TB, der, cert []byte) []byte {
	t.Helper()
	oid, elems := signedDataElements(t, der)
	for i, e := range elems {
		if e[0] != 0xA0 { // certificates [0] IMPLICIT
			continue
		}
		var b cryptobyte.Builder
		b.AddASN1(cbasn1.Tag(0).Constructed().ContextSpecific(), func(b *cryptobyte.Builder) {
			b.AddBytes(inner(t, e))
			b.AddBytes(cert)
		})
		var err error
		if elems[i], err = b.Bytes(); err != nil {
			t.Fatal(err)
		}
		return contentInfo(t, oid, elems)
	}
	t.Fatal("the signature carries no certificate set")
	return nil
}

// ToBER re-encodes the outer ContentInfo with an indefinite length (BER).
func ToBER(t testing.TB, der []byte) []byte {
	t.Helper()
	content := inner(t, der)
	out := append([]byte{0x30, 0x80}, content...)
	return append(out, 0, 0)
}
