package pgp

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mailmsg/rawmime"
)

// clearSignedBefore is clearSigned as it was before it wrote into a buffer
// of the block's size: the reference the new one must equal byte for byte.
func clearSignedBefore(plain []byte, sig *packet.Signature) ([]byte, bool) {
	text := strings.ReplaceAll(string(plain), "\r\n", "\n")
	if strings.Contains(text, "\r") {
		return nil, false
	}
	lines := strings.Split(text, "\n")
	var b strings.Builder
	b.WriteString(beginSigned + "\n")
	if sig.Version != 6 {
		alg, err := micalg(sig.Hash)
		if err != nil {
			return nil, false
		}
		b.WriteString("Hash: " + strings.ToUpper(strings.TrimPrefix(alg, "pgp-")) + "\n")
	}
	b.WriteString("\n")
	for _, l := range lines {
		if strings.TrimRight(l, " \t") != l {
			return nil, false
		}
		if strings.HasPrefix(l, "-") {
			b.WriteString("- ")
		}
		b.WriteString(l + "\n")
	}
	var sigArmor bytes.Buffer
	w, err := armor.Encode(&sigArmor, "PGP SIGNATURE", nil)
	if err != nil {
		return nil, false
	}
	if err := sig.Serialize(w); err != nil {
		return nil, false
	}
	if err := w.Close(); err != nil {
		return nil, false
	}
	b.Write(sigArmor.Bytes())
	b.WriteString("\n")
	return []byte(b.String()), true
}

// signedMessageBefore is signedMessage as it was before it sized its
// buffer and left room in front: the reference.
func signedMessageBefore(plain []byte, d *decrypted) ([]byte, error) {
	sig := d.sig.sig
	ops := &packet.OnePassSignature{Version: 3, SigType: sig.SigType, Hash: sig.Hash, PubKeyAlgo: sig.PubKeyAlgo, IsLast: true}
	if sig.IssuerKeyId != nil {
		ops.KeyId = *sig.IssuerKeyId
	}
	if sig.Version == 6 {
		ops.Version, ops.Salt, ops.KeyFingerprint = 6, sig.Salt(), sig.IssuerFingerprint
	}
	var out bytes.Buffer
	w, err := armor.Encode(&out, "PGP MESSAGE", nil)
	if err != nil {
		return nil, err
	}
	if err := ops.Serialize(w); err != nil {
		return nil, fmt.Errorf("one-pass signature: %w", err)
	}
	name, mtime, binary := "", uint32(0), sig.SigType == packet.SigTypeBinary
	if d.literal != nil {
		name, mtime = d.literal.FileName, d.literal.Time
	}
	lw, err := packet.SerializeLiteral(nopCloser{w}, binary, name, mtime)
	if err != nil {
		return nil, fmt.Errorf("literal data: %w", err)
	}
	if _, err := lw.Write(plain); err != nil {
		return nil, fmt.Errorf("literal data: %w", err)
	}
	if err := lw.Close(); err != nil {
		return nil, fmt.Errorf("literal data: %w", err)
	}
	if err := sig.Serialize(w); err != nil {
		return nil, fmt.Errorf("signature: %w", err)
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	out.WriteString("\n")
	return out.Bytes(), nil
}

// mergeTextBefore is mergeText as it was before mergeTextOver: the
// reference.
func mergeTextBefore(top *rawmime.Entity, plain []byte) []byte {
	nl := lineEnding(top.Header)
	var b bytes.Buffer
	fs := top.Fields.Fields()
	for fs.Next() {
		if strings.EqualFold(fs.Key(), "Content-Transfer-Encoding") {
			continue
		}
		if raw, err := fs.Raw(); err == nil {
			writeField(&b, raw, nl)
		}
	}
	cte := "7bit"
	for _, c := range plain {
		if c >= 0x80 {
			cte = "8bit"
			break
		}
	}
	b.WriteString("Content-Transfer-Encoding: " + cte + nl + nl)
	b.Write(withLineEnding(plain, nl))
	return b.Bytes()
}

// inlineTexts are decrypted inline texts: CRLF, LF, mixed, dash-escaped
// lines, trailing whitespace, lone and doubled CRs, no final line break,
// non-ASCII, empty.
var inlineTexts = []string{
	"line one\r\nline two\r\n",
	"line one\nline two\n",
	"mixed\r\nand\nbare\n\r\n",
	"-dash first\n- spaced\n--\nplain\n-",
	"trailing space \nnext\n",
	"trailing tab\t\r\n",
	"lone\rCR\n",
	"doubled\r\r\nCR\r\n",
	"no final break",
	"\u00e9t\u00e9\r\n",
	"\n\n",
	"",
}

// inlineSig signs text with ann, as text or binary.
func inlineSig(t *testing.T, ann *openpgp.Entity, text string, textSig bool) *packet.Signature {
	t.Helper()
	var sigBin bytes.Buffer
	if err := openpgp.DetachSignWithParams(&sigBin, []*openpgp.Entity{ann}, strings.NewReader(text), &openpgp.SignParams{TextSig: textSig}); err != nil {
		t.Fatal(err)
	}
	p, err := packet.Read(&sigBin)
	if err != nil {
		t.Fatal(err)
	}
	return p.(*packet.Signature)
}

// TestClearSignedAsBefore: the clear-signed block written into a buffer of
// its size, after the room asked for, is the one the string-building
// clearSigned wrote, and refused for the same texts.
func TestClearSignedAsBefore(t *testing.T) {
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	for i, text := range inlineTexts {
		for _, front := range []int{0, 100} {
			t.Run(fmt.Sprintf("%d/%d", i, front), func(t *testing.T) {
				sig := inlineSig(t, ann, text, true)
				want, wantOK := clearSignedBefore([]byte(text), sig)
				got, ok := clearSigned([]byte(text), sig, front)
				if ok != wantOK {
					t.Fatalf("%q: written %v, before %v", text, ok, wantOK)
				}
				if !ok {
					return
				}
				if len(got) < front || !bytes.Equal(got[front:], want) {
					t.Fatalf("%q: block\n%q\nwant\n%q", text, got, want)
				}
			})
		}
	}
}

// TestSignedMessageAsBefore: the armored signed message, after the room
// asked for, is the one signedMessage wrote before, for text and binary
// signatures, with and without the literal packet's name and time.
func TestSignedMessageAsBefore(t *testing.T) {
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	for i, text := range inlineTexts {
		for _, lit := range []*packet.LiteralData{nil, {FileName: "post.txt", Time: 1700000000}} {
			for _, textSig := range []bool{true, false} {
				t.Run(fmt.Sprintf("%d/%v/%v", i, lit != nil, textSig), func(t *testing.T) {
					d := &decrypted{signed: true, literal: lit}
					d.sig.sig = inlineSig(t, ann, text, textSig)
					want, err := signedMessageBefore([]byte(text), d)
					if err != nil {
						t.Fatal(err)
					}
					got, err := signedMessage([]byte(text), d, 64)
					if err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(got[64:], want) {
						t.Fatalf("%q: message\n%q\nwant\n%q", text, got[64:], want)
					}
				})
			}
		}
	}
}

// TestMergeTextOver: the opened inline message written over the buffer
// the text lies in (mergeTextOver, after decrypt's room) is byte for byte
// the one mergeText wrote before as copies, for outer headers in LF and
// CRLF with and without a Content-Transfer-Encoding; it is written in
// place exactly when the text's conversion does not lengthen it.
func TestMergeTextOver(t *testing.T) {
	for _, nl := range []string{"\n", "\r\n"} {
		for _, cte := range []string{"", "Content-Transfer-Encoding: quoted-printable" + nl} {
			for i, text := range inlineTexts {
				t.Run(fmt.Sprintf("%q/%v/%d", nl, cte != "", i), func(t *testing.T) {
					top, err := rawmime.Parse([]byte("From: ann@subs.test" + nl + "Subject: s" + nl + cte + "Content-Type: text/plain" + nl + nl + "-----BEGIN PGP MESSAGE-----" + nl))
					if err != nil {
						t.Fatal(err)
					}
					want := mergeTextBefore(top, []byte(text))
					if got := mergeText(top, []byte(text)); !bytes.Equal(got, want) {
						t.Fatalf("mergeText\n%q\nwant\n%q", got, want)
					}
					front := mergeFront(top)
					d := decryptedAs(text, front)
					got := mergeTextOver(d.buf, front, top, d.plain)
					if !bytes.Equal(got, want) {
						t.Fatalf("mergeTextOver\n%q\nwant\n%q", got, want)
					}
					grows := nl == "\r\n" && strings.Count(text, "\n") != strings.Count(text, "\r\n")
					if over := len(got) > 0 && &got[0] == &d.buf[0]; over != (text != "" && !grows) {
						t.Fatalf("written over the buffer: %v", over)
					}
				})
			}
		}
	}
}

// TestClearSignedOver: the clear-signed block written over the decrypted
// text (clearSignedOver, from keepAt in the room in front of it) is the
// one clearSigned wrote before, refused for the same texts, and refused,
// the buffer untouched, when its header and dash escapes outgrow the room
// or its end the capacity; keepInlineSignature then writes it apart.
func TestClearSignedOver(t *testing.T) {
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	dashes := strings.Repeat("-\r\n", 40) + strings.Repeat("- item\n", 40)
	for i, text := range append(inlineTexts, dashes) {
		for _, room := range []struct {
			front, keepAt, spare int
			fits                 bool // for a text that can be clear-signed
		}{
			{4096, 2048, 4096, true},
			{2048, 0, 4096, true},
			{4096, 4096 - 40, 4096, false}, // no room for the header
			{4096, 4096 - 100, 0, false},   // no capacity for the signature; the dash escapes too
		} {
			t.Run(fmt.Sprintf("%d/%d-%d-%d", i, room.front, room.keepAt, room.spare), func(t *testing.T) {
				sig := inlineSig(t, ann, text, true)
				want, wantOK := clearSignedBefore([]byte(text), sig)
				buf := make([]byte, room.front, room.front+len(text)+room.spare)
				buf = append(buf, text...)
				before := append([]byte(nil), buf...)
				got, ok := clearSignedOver(buf, room.front, room.keepAt, sig)
				if ok != (wantOK && room.fits) {
					t.Fatalf("%q: written %v, before %v, fits %v", text, ok, wantOK, room.fits)
				}
				if !ok {
					if !bytes.Equal(buf, before) {
						t.Fatal("the buffer was written")
					}
					return
				}
				if !bytes.Equal(got[room.keepAt:], want) {
					t.Fatalf("%q: block\n%q\nwant\n%q", text, got[room.keepAt:], want)
				}
				if &got[0] != &buf[0] {
					t.Fatal("not written over the buffer")
				}
			})
		}
	}
}

// TestKeepInlineSignatureOver: keepInlineSignature writes the clear-signed
// block over the decrypted text when it fits, at clearSignRoom before the
// text, and in a buffer of its own, after the room asked for, when it does
// not; the block is the same.
func TestKeepInlineSignatureOver(t *testing.T) {
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	for _, tc := range []struct {
		name, text string
		over       bool
	}{
		{"fits", "line one\r\nline two\r\n", true},
		{"dash escapes outgrow the room", strings.Repeat("- item\n", clearSignRoom), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			const front = 4096
			d := decryptedAs(tc.text, front)
			d.signed = true
			d.sig.sig = inlineSig(t, ann, tc.text, true)
			want, _ := clearSignedBefore([]byte(tc.text), d.sig.sig)
			buf, at, ok := keepInlineSignature(d.plain, d, front)
			if !ok || !bytes.Equal(buf[at:], want) {
				t.Fatalf("kept %v:\n%q\nwant\n%q", ok, buf[at:], want)
			}
			if over := &buf[0] == &d.buf[0]; over != tc.over || over && at != front-clearSignRoom || !over && at != front {
				t.Fatalf("written over the text %v at %d, want %v", over, at, tc.over)
			}
		})
	}
}
