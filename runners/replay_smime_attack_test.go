package runners

// S/MIME replays, end to end with openssl: an owner's signed command mail
// acts once; re-encodings of its CMS signature that need no key (an unsigned
// attribute added, another certificate set, BER instead of DER, the whole
// signed mail encrypted to the list by the attacker) are still the same
// signature and are refused.
//
//   openssl cms -sign --> deliver --> in --> incoming (CMS identity) --> command (replay store)

import (
	"bytes"
	"crypto/x509"
	"encoding/asn1"
	"encoding/base64"
	"strings"
	"testing"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"cloister/cms"
	"cloister/internal/testca"
	"cloister/mimecrypt/rawmime"
	"cloister/queue"
)

// smimeSignature returns the DER of the signature part of an openssl
// multipart/signed message, and the base64 text it was read from.
func smimeSignature(t *testing.T, msg []byte) (der []byte, b64 []byte) {
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

// withSignature puts der in place of the signature part's base64 text.
func withSignature(msg, oldB64, der []byte) []byte {
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
func signedDataElements(t *testing.T, der []byte) (oid []byte, elems [][]byte) {
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
func contentInfo(t *testing.T, oid []byte, elems [][]byte) []byte {
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
func inner(t *testing.T, el []byte) []byte {
	t.Helper()
	s := cryptobyte.String(el)
	var c cryptobyte.String
	var tag cbasn1.Tag
	if !s.ReadAnyASN1(&c, &tag) {
		t.Fatal("bad element")
	}
	return c
}

// addUnsignedAttribute appends an unsigned attribute to the first SignerInfo.
func addUnsignedAttribute(t *testing.T, der []byte) []byte {
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

// addCertificate adds a certificate (DER) to the SignedData's certificate set.
func addCertificate(t *testing.T, der, cert []byte) []byte {
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

// toBER re-encodes the outer ContentInfo with an indefinite length (BER).
func toBER(t *testing.T, der []byte) []byte {
	t.Helper()
	content := inner(t, der)
	out := append([]byte{0x30, 0x80}, content...)
	return append(out, 0, 0)
}

// TestSMIMECommandReencodedReplay: an owner's openssl-signed remove acts
// once; the same signature re-encoded in ways that need no key is refused as
// a replay every time.
func TestSMIMECommandReencodedReplay(t *testing.T) {
	s := newTestSite(t)
	ca := testca.New(t)
	listLeaf := ca.Issue("team@lists.test", "rsa", "digitalSignature,keyEncipherment")
	ann := ca.Issue("ann@subs.test", "ec", "digitalSignature,keyAgreement")
	caCert := parseCert(t, mustRead(t, ca.Cert))
	roots := x509.NewCertPool()
	roots.AddCert(caCert)
	s.Keys = &memKeys{cert: parseCert(t, listLeaf.CertPEM), key: parseKey(t, listLeaf.KeyPEM), roots: roots,
		certs: map[string]*x509.Certificate{"ann@subs.test": parseCert(t, ann.CertPEM)}}
	s.setList(t, map[string]string{"smime_post_encrypt": "yes"})

	signed := ca.Run([]byte("Content-Type: text/plain\r\n\r\nx-list-name team@lists.test\r\nremove bob@subs.test\r\n"),
		"cms", "-sign", "-signer", ann.Cert, "-inkey", ann.Key, "-md", "sha256")
	header := []byte("From: ann@subs.test\nTo: team-request@lists.test\nSubject: roster\n")
	mail := append(append([]byte{}, header...), signed...)
	s.deliver(t, queue.SubRequest, "ann@subs.test", string(mail))
	s.drain(t)
	if s.member(t, "bob@subs.test") != nil {
		t.Fatalf("the first signed remove did not act; bad: %q", s.badReasons(t))
	}

	der, b64 := smimeSignature(t, mail)
	variants := []struct {
		name string
		mail []byte
	}{
		{"unsigned attribute added", withSignature(mail, b64, addUnsignedAttribute(t, der))},
		{"certificate set changed", withSignature(mail, b64, addCertificate(t, der, caCert.Raw))},
		{"BER instead of DER", withSignature(mail, b64, toBER(t, der))},
		{"encrypted to the list by the attacker", append(append([]byte{}, header...),
			ca.Run(signed, "cms", "-encrypt", "-aes256", listLeaf.Cert)...)},
	}
	for _, v := range variants {
		t.Run(v.name, func(t *testing.T) {
			if bytes.Equal(v.mail, mail) {
				t.Fatal("the variant is the original")
			}
			readd(t, s, "bob@subs.test")
			s.deliver(t, queue.SubRequest, "ann@subs.test", string(v.mail))
			s.drain(t)
			if s.member(t, "bob@subs.test") == nil {
				t.Fatalf("the re-encoded signature removed bob again; bad: %q", s.badReasons(t))
			}
			box := s.mailbox(t, "ann@subs.test")
			reply, err := testca.Decrypt(box[len(box)-1], ann)
			if err != nil {
				reply = box[len(box)-1] // not encrypted: read it as is
			}
			if !bytes.Contains(reply, []byte("this signed message was received before")) {
				t.Fatalf("reply does not say it is a replay:\n%s", reply)
			}
		})
	}
}
