package pgp

import (
	"bytes"
	"strings"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mailmsg/rawmime"
)

// mergePartsBefore is mergeParts as it was before mergeOver: the reference
// the opened message written over the decrypted post must equal byte for
// byte.
func mergePartsBefore(top, protected, fields *rawmime.Entity, body ...[]byte) []byte {
	nl := lineEnding(top.Header)
	innerSubject, useInner := protectedSubject(top, protected)
	size := len(top.Header) + len(fields.Header) + 64
	for _, p := range body {
		size += len(p)
	}
	var b bytes.Buffer
	b.Grow(size)
	wroteSubject := false
	fs := top.Fields.Fields()
	for fs.Next() {
		k := fs.Key()
		if strings.HasPrefix(strings.ToLower(k), "content-") {
			continue
		}
		if useInner && strings.EqualFold(k, "Subject") {
			if !wroteSubject {
				writeField(&b, innerSubject, nl)
				wroteSubject = true
			}
			continue
		}
		raw, err := fs.Raw()
		if err != nil {
			continue
		}
		writeField(&b, raw, nl)
	}
	if useInner && !wroteSubject {
		writeField(&b, innerSubject, nl)
	}
	ifs := fields.Fields.Fields()
	for ifs.Next() {
		if !strings.HasPrefix(strings.ToLower(ifs.Key()), "content-") {
			continue
		}
		if raw, err := ifs.Raw(); err == nil {
			writeField(&b, raw, nl)
		}
	}
	b.WriteString(nl)
	for _, p := range body {
		writeLineEnding(&b, p, nl)
	}
	return b.Bytes()
}

// decryptedAs lays plain out as decrypt does: front bytes of room, the
// plaintext, mergeTail of capacity after it.
func decryptedAs(plain string, front int) *decrypted {
	buf := make([]byte, front, front+len(plain)+mergeTail)
	buf = append(buf, plain...)
	return &decrypted{plain: buf[front:], buf: buf}
}

// TestMergeDecrypted: the opened message written over the decrypted post
// (mergeOver, through mergeDecrypted, with decrypt's room in front) is
// byte for byte the one mergeParts wrote as a copy before, for outer
// headers in LF and CRLF, decrypted entities in LF, CRLF or both, a
// protected Subject (by parameter or under a placeholder), a
// multipart/signed inside, and keepSignature's pieces with a text or a
// binary signature; and mergeOver is used exactly when the conversion
// does not lengthen the post and the header fits in front of it.
func TestMergeDecrypted(t *testing.T) {
	ann := newKey(t, "ann@subs.test", "curve25519", false)
	const signedInside = "Content-Type: multipart/signed; micalg=pgp-sha256; protocol=\"application/pgp-signature\"; boundary=s\r\n\r\n" +
		"--s\r\nContent-Type: text/plain; protected-headers=\"v1\"\r\nSubject: signed inside\r\n\r\nsigned text\r\n" +
		"--s\r\nContent-Type: application/pgp-signature\r\n\r\n-----BEGIN PGP SIGNATURE-----\r\n\r\nx\r\n-----END PGP SIGNATURE-----\r\n--s--\r\n"
	for _, tc := range []struct {
		name, outerSubject, plain string
		keep                      packet.SignatureType // 0: merge the inner entity, else keepSignature with this kind
		front                     int                  // -1: mergeFront
		// over: mergeOver writes in place, for the outer LF and CRLF
		// header respectively.
		overLF, overCRLF bool
	}{
		{"CRLF", "plain", "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n", 0, -1, true, true},
		{"LF", "plain", "Content-Type: text/plain\n\nline one\nline two\n", 0, -1, true, false},
		{"mixed", "plain", "Content-Type: text/plain\r\n\r\nline one\nline two\r\n\r\r\n", 0, -1, true, false},
		{"protected by parameter", "outer", "Content-Type: text/plain; protected-headers=\"v1\"\r\nSubject: inside\r\n\r\nbody\r\n", 0, -1, true, true},
		{"protected under placeholder", "...", "Content-Type: text/plain\r\nSubject: inside\r\nContent-Transfer-Encoding: 8bit\r\n\r\nbody\r\n", 0, -1, true, true},
		{"protected, folded, LF", "...", "Content-Type: text/plain\nSubject: a long\n inside\n\nbody\n", 0, -1, true, false},
		{"multipart/signed inside", "...", signedInside, 0, -1, true, true},
		{"no room in front", "...", "Content-Type: text/plain\r\nSubject: x\r\n\r\nbody\r\n", 0, 0, false, false},
		{"empty body", "plain", "Content-Type: text/plain\r\n\r\n", 0, -1, false, false},
		{"kept, text signature, CRLF", "...", "Content-Type: text/plain; protected-headers=\"v1\"\r\nSubject: inside\r\n\r\nline one\r\nline two\r\n", packet.SigTypeText, -1, true, true},
		{"kept, binary signature, CRLF", "plain", "Content-Type: text/plain\r\n\r\nline one\r\nline two\r\n", packet.SigTypeBinary, -1, true, true},
		// Canonical makes a copy of a plaintext with bare LFs: not in the buffer.
		{"kept, text signature, LF", "...", "Content-Type: text/plain; protected-headers=\"v1\"\nSubject: inside\n\nline one\nline two\n", packet.SigTypeText, -1, false, false},
		{"kept, no room in front", "plain", "Content-Type: text/plain\r\n\r\nline\r\n", packet.SigTypeText, 16, false, false},
	} {
		for _, nl := range []string{"\n", "\r\n"} {
			name := tc.name + "/LF"
			wantOver := tc.overLF
			if nl == "\r\n" {
				name, wantOver = tc.name+"/CRLF", tc.overCRLF
			}
			t.Run(name, func(t *testing.T) {
				top, err := rawmime.Parse([]byte("From: ann@subs.test" + nl + "Subject: " + tc.outerSubject + nl + "Date: Mon, 1 Jan 2024 00:00:00 +0000" + nl +
					"Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=b" + nl + nl + "--b--" + nl))
				if err != nil {
					t.Fatal(err)
				}
				front := tc.front
				if front < 0 {
					front = mergeFront(top)
				}
				d := decryptedAs(tc.plain, front)
				// The reference works on its own copy: mergeOver writes over d.
				ref, err := rawmime.Parse([]byte(tc.plain))
				if err != nil {
					t.Fatal(err)
				}
				var want, got []byte
				var over bool
				if tc.keep == 0 {
					want = mergePartsBefore(top, ref, ref, ref.Body)
					inner, err := rawmime.Parse(d.plain)
					if err != nil {
						t.Fatal(err)
					}
					// mergeOver's verdict on a copy of the buffer.
					cp := append([]byte(nil), d.buf...)
					cinner, err := rawmime.Parse(cp[front:])
					if err != nil {
						t.Fatal(err)
					}
					_, over = mergeOver(cp, len(cp)-len(cinner.Body), top, cinner, cinner, [][]byte{cinner.Body}, 0)
					got = mergeDecrypted(d, top, inner, inner, [][]byte{inner.Body}, 0)
				} else {
					var sigBin bytes.Buffer
					if err := openpgp.DetachSignWithParams(&sigBin, []*openpgp.Entity{ann}, strings.NewReader(tc.plain), &openpgp.SignParams{TextSig: tc.keep == packet.SigTypeText}); err != nil {
						t.Fatal(err)
					}
					p, err := packet.Read(&sigBin)
					if err != nil {
						t.Fatal(err)
					}
					sig := p.(*packet.Signature)
					kr, ok := keepSignature([]byte(tc.plain), sig)
					if !ok {
						t.Fatal("signature not kept")
					}
					want = mergePartsBefore(top, kr.signed, kr.header, kr.body...)
					k, ok := keepSignature(d.plain, sig)
					if !ok {
						t.Fatal("signature not kept")
					}
					// mergeOver's verdict on a copy of the buffer with
					// the pieces pointing into that copy.
					cp := append([]byte(nil), d.buf...)
					cbody := append([][]byte(nil), k.body...)
					if &k.body[1][0] == &d.plain[0] {
						cbody[1] = cp[front:]
					}
					_, over = mergeOver(cp, front, top, k.signed, k.header, cbody, 1)
					got = mergeDecrypted(d, top, k.signed, k.header, k.body, 1)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("opened message\n%q\nwant\n%q", got, want)
				}
				if over != wantOver {
					t.Errorf("written over the decrypted post: %v, want %v", over, wantOver)
				}
			})
		}
	}
}

// TestMergeOverRefuses: mergeOver writes nothing and says so when the
// piece is not where it is told, or is not one of the pieces.
func TestMergeOverRefuses(t *testing.T) {
	top, err := rawmime.Parse([]byte("From: ann@subs.test\nSubject: s\n\n"))
	if err != nil {
		t.Fatal(err)
	}
	d := decryptedAs("Content-Type: text/plain\r\n\r\nbody\r\n", 1024)
	inner, err := rawmime.Parse(d.plain)
	if err != nil {
		t.Fatal(err)
	}
	at := len(d.buf) - len(inner.Body)
	elsewhere := append([]byte(nil), inner.Body...)
	for _, tc := range []struct {
		name string
		at   int
		body [][]byte
		big  int
	}{
		{"wrong offset", at - 1, [][]byte{inner.Body}, 0},
		{"negative offset", -1, [][]byte{inner.Body}, 0},
		{"past the buffer", len(d.buf), [][]byte{inner.Body}, 0},
		{"piece elsewhere", at, [][]byte{elsewhere}, 0},
		{"no such piece", at, [][]byte{inner.Body}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := append([]byte(nil), d.buf...)
			if m, ok := mergeOver(d.buf, tc.at, top, inner, inner, tc.body, tc.big); ok || m != nil {
				t.Fatalf("merged over the buffer: %q", m)
			}
			if !bytes.Equal(d.buf, before) {
				t.Fatal("the buffer was written")
			}
		})
	}
}

// TestMergeFront: the room decrypt leaves in front grows with the outer
// header, which may double in size when its LFs become CRLFs.
func TestMergeFront(t *testing.T) {
	for _, header := range []string{"", "From: a@b.test\n\n", strings.Repeat("X-Long: "+strings.Repeat("x", 70)+"\n", 100) + "\n"} {
		top, err := rawmime.Parse([]byte(header))
		if err != nil {
			t.Fatal(err)
		}
		if got := mergeFront(top); got < 2*len(top.Header)+1024 {
			t.Errorf("header of %d bytes: room %d", len(top.Header), got)
		}
	}
}
