package ownmail

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"

	"cloister/mimecrypt/cms"
	"cloister/mimecrypt/smime"
)

// toIndefinite rewrites DER as BER with an indefinite length on every
// constructed element, and the encrypted content ([0] IMPLICIT OCTET
// STRING, primitive) as a constructed string of chunks, as streaming
// clients write it. It handles the one-byte tags that CMS uses.
func toIndefinite(t *testing.T, der []byte) []byte {
	t.Helper()
	var out []byte
	for len(der) > 0 {
		if len(der) < 2 || der[0]&0x1f == 0x1f {
			t.Fatalf("unexpected DER at %x", der[:min(len(der), 8)])
		}
		tag, l, hl := der[0], int(der[1]), 2
		if l&0x80 != 0 {
			k := l & 0x7f
			l, hl = 0, 2+k
			for _, b := range der[2 : 2+k] {
				l = l<<8 | int(b)
			}
		}
		content := der[hl : hl+l]
		switch {
		case tag&0x20 != 0:
			out = append(append(out, tag, 0x80), toIndefinite(t, content)...)
			out = append(out, 0, 0)
		case tag == 0x80 && len(content) > 1:
			out = append(out, 0xa0, 0x80)
			for c := content; len(c) > 0; {
				n := min(len(c), 1000)
				out = append(append(out, 0x04), derLength(n)...)
				out, c = append(out, c[:n]...), c[n:]
			}
			out = append(out, 0, 0)
		default:
			out = append(out, der[:hl+l]...)
		}
		der = der[hl+l:]
	}
	return out
}

// derLength encodes a DER length.
func derLength(n int) []byte {
	switch {
	case n < 0x80:
		return []byte{byte(n)}
	case n < 0x100:
		return []byte{0x81, byte(n)}
	}
	return []byte{0x82, byte(n >> 8), byte(n)}
}

// smimeParts splits an S/MIME copy into its header and its decoded DER.
func smimeParts(t *testing.T, data []byte) (head, der []byte) {
	t.Helper()
	head, body, ok := bytes.Cut(data, []byte("\r\n\r\n"))
	if !ok {
		t.Fatal("no body")
	}
	der, err := decodeBefore(body)
	if err != nil {
		t.Fatal(err)
	}
	return head, der
}

// withDER is an S/MIME copy of header head holding der in base64 lines.
func withDER(head, der []byte) []byte {
	b := append(append([]byte{}, head...), "\r\n\r\n"...)
	s := base64.StdEncoding.EncodeToString(der)
	for len(s) > 76 {
		b = append(append(b, s[:76]...), "\r\n"...)
		s = s[76:]
	}
	return append(append(b, s...), "\r\n"...)
}

// TestGateSMIMECrafted: S/MIME copies crafted around a good envelope are
// refused: junk characters in the base64, an envelope naming a recipient
// too many or one twice, BER with trailing bytes, a ContentInfo of plain
// data; the same envelope in BER with indefinite lengths passes.
func TestGateSMIMECrafted(t *testing.T) {
	ann, bob := encryptionCert(t, "ann@subs.test"), encryptionCert(t, "bob@subs.test")
	g := &Gate{Keys: certKeys{certs: map[string]*x509.Certificate{"ann@subs.test": ann, "bob@subs.test": bob}}, Now: time.Now()}
	m := confidentialMeta()
	good := smimeCopy(t, 4<<10, ann)
	head, der := smimeParts(t, good)
	ber := toIndefinite(t, der)
	if bytes.Equal(ber, der) {
		t.Fatal("toIndefinite changed nothing")
	}
	_, body, _ := bytes.Cut(good, []byte("\r\n\r\n"))
	withBody := func(b []byte) []byte { return append(append(append([]byte{}, head...), "\r\n\r\n"...), b...) }
	// A ContentInfo of id-data holding the post in clear.
	const marker = "SMIME-GATE-CRAFTED-PLAINTEXT"
	data := append([]byte{0x30, byte(15 + len(marker)), 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01,
		0xa0, byte(2 + len(marker)), 0x04, byte(len(marker))}, marker...)
	annAnn := []string{"ann@subs.test"}
	tests := []struct {
		name  string
		data  []byte
		rcpts []string
		ok    bool
	}{
		{"as For writes it", good, annAnn, true},
		{"in BER, indefinite lengths", withDER(head, ber), annAnn, true},
		{"spaces and tabs in the lines", withBody(bytes.ReplaceAll(body, []byte("\r\n"), []byte(" \t\r\n"))), annAnn, true},
		{"a junk character in a line", withBody(bytes.Replace(body, []byte("\r\n"), []byte("!\r\n"), 1)), annAnn, false},
		{"a NUL in a line", withBody(bytes.Replace(body, []byte("\r\n"), []byte("\x00\r\n"), 1)), annAnn, false},
		{"a form feed between lines", withBody(bytes.Replace(body, []byte("\r\n"), []byte("\f\r\n"), 1)), annAnn, false},
		{"a '-' line in the base64", withBody(append([]byte("--\r\n"), body...)), annAnn, false},
		{"for ann and bob, sent to ann", smimeCopy(t, 4<<10, ann, bob), annAnn, false},
		{"for ann twice", smimeCopy(t, 4<<10, ann, ann), annAnn, false},
		{"for ann twice, sent to ann and bob", smimeCopy(t, 4<<10, ann, ann), []string{"ann@subs.test", "bob@subs.test"}, false},
		{"in BER, then a byte", withDER(head, append(append([]byte{}, ber...), 0)), annAnn, false},
		{"in BER, then the post", withDER(head, append(append([]byte{}, ber...), marker...)), annAnn, false},
		{"in BER, an end-of-contents short", withDER(head, ber[:len(ber)-2]), annAnn, false},
		{"in DER, then the post", withDER(head, append(append([]byte{}, der...), marker...)), annAnn, false},
		{"a ContentInfo of data", withDER(head, data), annAnn, false},
		{"a ContentInfo of data, in BER", withDER(head, toIndefinite(t, data)), annAnn, false},
		{"as For writes it, again", good, annAnn, true},
	}
	for _, tc := range tests {
		err := checkBoth(t, g, m, tc.data, tc.rcpts)
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: passes: %v", tc.name, err)
		}
	}
}

// TestGateSMIMEConcurrent: sessions check copies of several sizes on one
// Gate at once, each decoding into a buffer of the Gate's pool that another
// session used before with other bytes: a copy cut short after a whole one
// must still be refused, and every whole copy pass (run with -race).
func TestGateSMIMEConcurrent(t *testing.T) {
	ann := encryptionCert(t, "ann@subs.test")
	g := &Gate{Keys: certKeys{certs: map[string]*x509.Certificate{"ann@subs.test": ann}}, Now: time.Now()}
	m := confidentialMeta()
	type copyCase struct {
		data []byte
		ok   bool
	}
	var cases []copyCase
	for _, size := range []int{1 << 10, 64 << 10, 300 << 10} {
		c := smimeCopy(t, size, ann)
		head, der := smimeParts(t, c)
		cases = append(cases, copyCase{c, true},
			copyCase{withDER(head, der[:len(der)-1]), false},
			copyCase{withDER(head, der[:len(der)/2]), false})
	}
	var wg sync.WaitGroup
	errs := make(chan error, 64)
	for s := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 30 {
				c := cases[(s*7+i)%len(cases)]
				err := checkBoth(t, g, m, c.data, []string{"ann@subs.test"})
				if c.ok != (err == nil) {
					errs <- fmt.Errorf("session %d, copy %d (whole %v): %v", s, (s*7+i)%len(cases), c.ok, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// tlvOf is a DER element of a one-byte tag.
func tlvOf(tag byte, content ...[]byte) []byte {
	c := bytes.Join(content, nil)
	return append(append([]byte{tag}, derLength(len(c))...), c...)
}

// editEnvelope rewrites the fields of the EnvelopedData or
// AuthEnvelopedData in a DER ContentInfo.
func editEnvelope(t *testing.T, der []byte, edit func(fields [][]byte) [][]byte) []byte {
	t.Helper()
	s := cryptobyte.String(der)
	var ci, oid, wrap, ed cryptobyte.String
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !ci.ReadASN1Element(&oid, cbasn1.OBJECT_IDENTIFIER) ||
		!ci.ReadASN1(&wrap, cbasn1.Tag(0).Constructed().ContextSpecific()) || !wrap.ReadASN1(&ed, cbasn1.SEQUENCE) {
		t.Fatal("not a ContentInfo")
	}
	var fields [][]byte
	for !ed.Empty() {
		var el cryptobyte.String
		if !ed.ReadAnyASN1Element(&el, nil) {
			t.Fatal("unreadable envelope field")
		}
		fields = append(fields, el)
	}
	return tlvOf(0x30, oid, tlvOf(0xa0, tlvOf(0x30, edit(fields)...)))
}

// TestGateSMIMENothingInTheClear: an envelope may carry nothing readable
// beside its encryption; For writes no originator info, no unprotected,
// authenticated or unauthenticated attributes and no user keying material,
// so a copy holding text in any of them is refused.
func TestGateSMIMENothingInTheClear(t *testing.T) {
	ann := encryptionCert(t, "ann@subs.test")
	g := &Gate{Keys: certKeys{certs: map[string]*x509.Certificate{"ann@subs.test": ann}}, Now: time.Now()}
	m := confidentialMeta()
	const marker = "SMIME-GATE-CLEAR-FIELD-PLAINTEXT"
	text := tlvOf(0x04, []byte(marker))
	attr := tlvOf(0x30, tlvOf(0x06, []byte{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x07, 0x01}), tlvOf(0x31, text))
	head, der := smimeParts(t, smimeCopy(t, 2<<10, ann))
	gcm, err := smime.Seal([]byte("Content-Type: text/plain\r\n\r\npost\r\n"), smime.SealOptions{Cipher: cms.AES256GCM})
	if err != nil {
		t.Fatal(err)
	}
	gcmEnt, err := gcm.For(ann)
	if err != nil {
		t.Fatal(err)
	}
	gcmHead, gcmDER := smimeParts(t, append([]byte("From: team@lists.test\r\nTo: ann@subs.test\r\nMIME-Version: 1.0\r\n"), gcmEnt...))
	// withUKM puts user keying material into the first field of the
	// first RecipientInfo, a KeyAgreeRecipientInfo [1] {version, originator, ...}.
	withUKM := func(f [][]byte) [][]byte {
		ris := cryptobyte.String(f[1])
		var set, kari cryptobyte.String
		if !ris.ReadASN1(&set, cbasn1.SET) || !set.ReadASN1(&kari, cbasn1.Tag(1).Constructed().ContextSpecific()) {
			t.Fatal("no key agreement recipient info")
		}
		var version, orig cryptobyte.String
		if !kari.ReadASN1Element(&version, cbasn1.INTEGER) || !kari.ReadASN1Element(&orig, cbasn1.Tag(0).Constructed().ContextSpecific()) {
			t.Fatal("unreadable key agreement recipient info")
		}
		f[1] = tlvOf(0x31, tlvOf(0xa1, version, orig, tlvOf(0xa1, text), kari), set)
		return f
	}
	tests := []struct {
		name string
		data []byte
		ok   bool
	}{
		{"rebuilt as it was", withDER(head, editEnvelope(t, der, func(f [][]byte) [][]byte { return f })), true},
		{"AES-GCM, rebuilt as it was", withDER(gcmHead, editEnvelope(t, gcmDER, func(f [][]byte) [][]byte { return f })), true},
		{"originator info", withDER(head, editEnvelope(t, der, func(f [][]byte) [][]byte {
			return append([][]byte{f[0], tlvOf(0xa0, tlvOf(0xa1, text))}, f[1:]...)
		})), false},
		{"unprotected attributes", withDER(head, editEnvelope(t, der, func(f [][]byte) [][]byte {
			return append(f, tlvOf(0xa1, attr))
		})), false},
		{"user keying material", withDER(head, editEnvelope(t, der, withUKM)), false},
		{"AES-GCM, authenticated attributes", withDER(gcmHead, editEnvelope(t, gcmDER, func(f [][]byte) [][]byte {
			return append(append(append([][]byte{}, f[:3]...), tlvOf(0xa1, attr)), f[3:]...)
		})), false},
		{"AES-GCM, unauthenticated attributes", withDER(gcmHead, editEnvelope(t, gcmDER, func(f [][]byte) [][]byte {
			return append(f, tlvOf(0xa2, attr))
		})), false},
	}
	for _, tc := range tests {
		err := checkBoth(t, g, m, tc.data, []string{"ann@subs.test"})
		if tc.ok && err != nil {
			t.Errorf("%s: refused: %v", tc.name, err)
		}
		if !tc.ok && !errors.Is(err, ErrRefused) {
			t.Errorf("%s: passes: %v", tc.name, err)
		}
	}
}
