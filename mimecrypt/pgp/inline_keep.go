package pgp

import (
	"bytes"
	"fmt"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// nopCloser lets a bytes.Buffer take a packet stream.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

// keepInlineSignature returns the text of an inline-PGP post that was signed
// inside its encryption with the sender's signature kept, so that the
// subscribers can verify the author as they can for PGP/MIME: a
// clear-signed block (RFC 9580 7) when the text survives the clear-signing
// rules unchanged (no trailing whitespace; for a binary signature, CRLF line
// endings throughout, as GnuPG writes them from a mail client), readable by
// people, commands and clients alike; otherwise the signed OpenPGP message
// (one-pass signature, literal data, signature) armored. The signature
// covers only the literal data, so both forms verify with the very packet
// the sender made.
//
// The text is written so that the opened message can be written over it
// (mergeTextOver), with room in front: the clear-signed block over the
// plaintext itself when it fits there (clearSignedOver, at keepAt), else
// after front bytes of room in a buffer of its own. It is buf[at:].
func keepInlineSignature(plain []byte, d *decrypted, front int) (buf []byte, at int, ok bool) {
	sig := d.sig.sig
	if sig == nil {
		return nil, 0, false
	}
	// A binary signature hashed the bytes as they are: the clear-signed
	// form hashes CRLF line endings, so it fits only text that has them
	// (every LF after a CR).
	crlf := bytes.Count(plain, []byte("\n")) == bytes.Count(plain, []byte("\r\n"))
	if sig.SigType == packet.SigTypeText || (sig.SigType == packet.SigTypeBinary && crlf) {
		if keepAt := front - clearSignRoom; keepAt >= 0 && len(d.buf) == front+len(plain) {
			if cs, ok := clearSignedOver(d.buf, front, keepAt, sig); ok {
				return cs, keepAt, true
			}
		}
		if cs, ok := clearSigned(plain, sig, front); ok {
			return cs, front, true
		}
	}
	b, err := signedMessage(plain, d, front)
	if err != nil {
		return nil, 0, false
	}
	return b, front, true
}

// clearSignRoom is how much of the room in front of a decrypted text
// clearSignedOver may take: the block's header lines, and its dash
// escapes where they outgrow the CRs dropped before them.
const clearSignRoom = 2 << 10

// clearPlan is what a first pass over a text tells of the clear-signed
// block to be made of it.
type clearPlan struct {
	head     string // the block's first lines, up to the text
	sigArmor []byte // the armored signature, and the block's last lines
	size     int    // the block's length
	// growth is how far the text's lines, as written, get ahead of them
	// as read at most (dash escapes less CRs dropped): how much room in
	// front of the text writing over it needs besides head.
	growth int
}

// planClearSigned checks that plain can be clear-signed with sig as it is
// (a CR only before LF, no line with trailing whitespace) and measures the
// block; it writes nothing.
func planClearSigned(plain []byte, sig *packet.Signature) (clearPlan, bool) {
	crlfs := bytes.Count(plain, []byte("\r\n"))
	if bytes.Count(plain, []byte("\r")) != crlfs {
		return clearPlan{}, false
	}
	head := beginSigned + "\n"
	if sig.Version != 6 {
		alg, err := micalg(sig.Hash)
		if err != nil {
			return clearPlan{}, false
		}
		head += "Hash: " + strings.ToUpper(strings.TrimPrefix(alg, "pgp-")) + "\n"
	}
	head += "\n"
	var sigArmor bytes.Buffer
	w, err := armor.Encode(&sigArmor, "PGP SIGNATURE", nil)
	if err != nil {
		return clearPlan{}, false
	}
	if err := sig.Serialize(w); err != nil {
		return clearPlan{}, false
	}
	if err := w.Close(); err != nil {
		return clearPlan{}, false
	}
	sigArmor.WriteString("\n")
	pl := clearPlan{head: head, sigArmor: sigArmor.Bytes(), size: len(head) + sigArmor.Len()}
	ahead := 0
	for rest := plain; ; {
		l, after, more := bytes.Cut(rest, []byte("\n"))
		in := len(l) + 1 // the line and its LF
		if !more {
			in = len(l)
		}
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) > 0 && (l[len(l)-1] == ' ' || l[len(l)-1] == '\t') {
			return clearPlan{}, false
		}
		out := len(l) + 1
		if len(l) > 0 && l[0] == '-' {
			out += 2
		}
		pl.size += out
		ahead += out - in
		pl.growth = max(pl.growth, ahead)
		if !more {
			break
		}
		rest = after
	}
	return pl, true
}

// writeClearLines writes plain's lines as a clear-signed block holds them
// (LF line endings, "- " before a line starting with "-") into buf from w
// on, and returns where they end. plain may lie in buf itself, from
// w+growth (clearPlan) on: each line is moved before anything is written
// over what it was.
func writeClearLines(buf []byte, w int, plain []byte) int {
	for rest := plain; ; {
		l, after, more := bytes.Cut(rest, []byte("\n"))
		l = bytes.TrimSuffix(l, []byte("\r"))
		dash := 0
		if len(l) > 0 && l[0] == '-' {
			dash = 2
		}
		copy(buf[w+dash:], l)
		if dash > 0 {
			buf[w], buf[w+1] = '-', ' '
		}
		w += dash + len(l)
		buf[w] = '\n'
		w++
		if !more {
			return w
		}
		rest = after
	}
}

// clearSigned writes plain and its text-mode signature as a clear-signed
// block, after front bytes of room in the buffer returned, or says it
// cannot: the clear-signed text is hashed without trailing whitespace, so
// a line that has some would not verify. The text is plain with its CRLFs
// made LF, so a CR elsewhere cannot be written. The block is written once,
// into a buffer of its size: a large post is not copied into a string, a
// builder that doubles and a copy of that.
func clearSigned(plain []byte, sig *packet.Signature, front int) ([]byte, bool) {
	pl, ok := planClearSigned(plain, sig)
	if !ok {
		return nil, false
	}
	b := make([]byte, front+pl.size)
	w := front + copy(b[front:], pl.head)
	w = writeClearLines(b, w, plain)
	copy(b[w:], pl.sigArmor)
	return b, true
}

// clearSignedOver is clearSigned written over the buffer the text lies
// in, buf[at:], from keepAt on (before at, in the room decrypt left), so
// that a large post is not copied a second time: the block is then
// buf[keepAt:] of the slice returned. It writes nothing and returns false
// when clearSigned would, or when the block does not fit: its header and
// growth (clearPlan) in front of the text, or its end within buf's
// capacity. On success, the text must not be read again.
func clearSignedOver(buf []byte, at, keepAt int, sig *packet.Signature) ([]byte, bool) {
	if keepAt < 0 || at > len(buf) {
		return nil, false
	}
	plain := buf[at:]
	pl, ok := planClearSigned(plain, sig)
	if !ok || keepAt+len(pl.head)+pl.growth > at || keepAt+pl.size > cap(buf) {
		return nil, false
	}
	buf = buf[:cap(buf)]
	w := keepAt + copy(buf[keepAt:], pl.head)
	w = writeClearLines(buf, w, plain)
	w += copy(buf[w:], pl.sigArmor)
	return buf[:w], true
}

// signedMessage rebuilds the sender's signed OpenPGP message from the
// decrypted literal data and its verified signature, armored, after front
// bytes of room in the buffer returned, which is sized for it at once.
func signedMessage(plain []byte, d *decrypted, front int) ([]byte, error) {
	sig := d.sig.sig
	ops := &packet.OnePassSignature{Version: 3, SigType: sig.SigType, Hash: sig.Hash, PubKeyAlgo: sig.PubKeyAlgo, IsLast: true}
	if sig.IssuerKeyId != nil {
		ops.KeyId = *sig.IssuerKeyId
	}
	if sig.Version == 6 {
		ops.Version, ops.Salt, ops.KeyFingerprint = 6, sig.Salt(), sig.IssuerFingerprint
	}
	// The packets are the literal data and at most a few KiB; armored,
	// 4 characters for 3 bytes and a LF after each 64.
	out := bytes.NewBuffer(make([]byte, front, front+(len(plain)+8<<10)/3*4/64*65+1<<10))
	w, err := armor.Encode(out, "PGP MESSAGE", nil)
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
