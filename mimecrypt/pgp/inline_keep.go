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
// The text is written after front bytes of room in a buffer of its own
// (buf, the text being buf[front:]), so that the opened message can be
// written over it (mergeTextOver).
func keepInlineSignature(plain []byte, d *decrypted, front int) (buf []byte, ok bool) {
	sig := d.sig.sig
	if sig == nil {
		return nil, false
	}
	// A binary signature hashed the bytes as they are: the clear-signed
	// form hashes CRLF line endings, so it fits only text that has them
	// (every LF after a CR).
	crlf := bytes.Count(plain, []byte("\n")) == bytes.Count(plain, []byte("\r\n"))
	if sig.SigType == packet.SigTypeText || (sig.SigType == packet.SigTypeBinary && crlf) {
		if cs, ok := clearSigned(plain, sig, front); ok {
			return cs, true
		}
	}
	b, err := signedMessage(plain, d, front)
	if err != nil {
		return nil, false
	}
	return b, true
}

// clearSigned writes plain and its text-mode signature as a clear-signed
// block, after front bytes of room in the buffer returned, or says it
// cannot: the clear-signed text is hashed without trailing whitespace, so
// a line that has some would not verify. The text is plain with its CRLFs
// made LF, so a CR elsewhere cannot be written. The block is written once,
// into a buffer of its size: a large post is not copied into a string, a
// builder that doubles and a copy of that.
func clearSigned(plain []byte, sig *packet.Signature, front int) ([]byte, bool) {
	crlfs := bytes.Count(plain, []byte("\r\n"))
	if bytes.Count(plain, []byte("\r")) != crlfs {
		return nil, false
	}
	head := beginSigned + "\n"
	if sig.Version != 6 {
		alg, err := micalg(sig.Hash)
		if err != nil {
			return nil, false
		}
		head += "Hash: " + strings.ToUpper(strings.TrimPrefix(alg, "pgp-")) + "\n"
	}
	head += "\n"
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
	// Each line gets LF; a line starting with "-" gets "- " in front.
	dashes := bytes.Count(plain, []byte("\n-"))
	if bytes.HasPrefix(plain, []byte("-")) {
		dashes++
	}
	b := make([]byte, front, front+len(head)+len(plain)-crlfs+1+2*dashes+sigArmor.Len()+1)
	b = append(b, head...)
	// Every CR is followed by LF (checked above): a line is what lies
	// between two LFs, less the CR of a CRLF.
	for rest := plain; ; {
		l, after, more := bytes.Cut(rest, []byte("\n"))
		l = bytes.TrimSuffix(l, []byte("\r"))
		if len(l) > 0 && (l[len(l)-1] == ' ' || l[len(l)-1] == '\t') {
			return nil, false
		}
		if len(l) > 0 && l[0] == '-' {
			b = append(b, "- "...)
		}
		b = append(append(b, l...), '\n')
		if !more {
			break
		}
		rest = after
	}
	b = append(b, sigArmor.Bytes()...)
	b = append(b, '\n')
	return b, true
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
