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
func keepInlineSignature(plain []byte, d *decrypted) ([]byte, bool) {
	sig := d.sig.sig
	if sig == nil {
		return nil, false
	}
	// A binary signature hashed the bytes as they are: the clear-signed
	// form hashes CRLF line endings, so it fits only text that has them.
	crlf := !bytes.Contains(bytes.ReplaceAll(plain, []byte("\r\n"), nil), []byte("\n"))
	if sig.SigType == packet.SigTypeText || (sig.SigType == packet.SigTypeBinary && crlf) {
		if cs, ok := clearSigned(plain, sig); ok {
			return cs, true
		}
	}
	b, err := signedMessage(plain, d)
	if err != nil {
		return nil, false
	}
	return b, true
}

// clearSigned writes plain and its text-mode signature as a clear-signed
// block, or says it cannot: the clear-signed text is hashed without
// trailing whitespace, so a line that has some would not verify.
func clearSigned(plain []byte, sig *packet.Signature) ([]byte, bool) {
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

// signedMessage rebuilds the sender's signed OpenPGP message from the
// decrypted literal data and its verified signature, armored.
func signedMessage(plain []byte, d *decrypted) ([]byte, error) {
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
