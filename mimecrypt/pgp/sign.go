package pgp

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mailmsg/rawmime"
)

// signingConfig returns cfg, or a default configuration, with the hash set
// to SHA-256 unless cfg asks for SHA-384 or SHA-512.
func signingConfig(cfg *packet.Config) *packet.Config {
	out := &packet.Config{}
	if cfg != nil {
		out = cfg
	}
	switch out.DefaultHash {
	case crypto.SHA256, crypto.SHA384, crypto.SHA512:
		return out
	}
	c := &packet.Config{
		DefaultHash:   crypto.SHA256,
		DefaultCipher: out.DefaultCipher,
		Rand:          out.Rand,
		Time:          out.Time,
	}
	return c
}

// boundary returns a fresh random MIME boundary.
func boundary() (string, error) {
	var b [18]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("random boundary: %w", err)
	}
	return "=_cloister_" + hex.EncodeToString(b[:]), nil
}

// micalg names a hash for the micalg parameter (RFC 3156 5).
func micalg(h crypto.Hash) (string, error) {
	switch h {
	case crypto.SHA256:
		return "pgp-sha256", nil
	case crypto.SHA384:
		return "pgp-sha384", nil
	case crypto.SHA512:
		return "pgp-sha512", nil
	}
	return "", fmt.Errorf("signature hash %v is not allowed for list signatures", h)
}

// SignMIME signs entity (a MIME entity: header fields, blank line, body) and
// returns an RFC 3156 multipart/signed entity: its Content-Type field, a
// blank line and the body, with CRLF line endings. The signed part is entity
// with bare LFs turned into CRLF, hashed as binary data with SHA-256 (or the
// SHA-384/512 that cfg asks for). entity should be 7-bit clean (RFC 3156 5):
// SignMIME does not re-encode it.
func SignMIME(entity []byte, signer *openpgp.Entity, cfg *packet.Config) ([]byte, error) {
	cfg = signingConfig(cfg)
	part := rawmime.Canonical(entity)
	var sigBin bytes.Buffer
	if err := openpgp.DetachSign(&sigBin, []*openpgp.Entity{signer}, bytes.NewReader(part), cfg); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	p, err := packet.Read(bytes.NewReader(sigBin.Bytes()))
	if err != nil {
		return nil, fmt.Errorf("read back signature: %w", err)
	}
	sig, ok := p.(*packet.Signature)
	if !ok {
		return nil, fmt.Errorf("read back signature: got %T", p)
	}
	alg, err := micalg(sig.Hash)
	if err != nil {
		return nil, err
	}
	var armored bytes.Buffer
	// With its CRC-24 line: GnuPG 2.2 misreads checksum-less armor whose
	// data is a multiple of 3 bytes long (see padForGnuPG).
	w, err := armor.Encode(&armored, "PGP SIGNATURE", nil)
	if err != nil {
		return nil, fmt.Errorf("armor signature: %w", err)
	}
	w.Write(sigBin.Bytes())
	if err := w.Close(); err != nil {
		return nil, fmt.Errorf("armor signature: %w", err)
	}
	b, err := boundary()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	out.Grow(len(part) + armored.Len() + 512)
	fmt.Fprintf(&out, "Content-Type: multipart/signed; micalg=%s;\r\n"+
		" protocol=\"application/pgp-signature\";\r\n boundary=\"%s\"\r\n\r\n", alg, b)
	out.WriteString("This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n")
	out.WriteString("--" + b + "\r\n")
	out.Write(part)
	out.WriteString("\r\n--" + b + "\r\n")
	out.WriteString("Content-Type: application/pgp-signature; name=\"signature.asc\"\r\n" +
		"Content-Description: OpenPGP digital signature\r\n" +
		"Content-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n")
	out.WriteString(strings.ReplaceAll(strings.TrimRight(armored.String(), "\n"), "\n", "\r\n"))
	out.WriteString("\r\n\r\n--" + b + "--\r\n")
	return out.Bytes(), nil
}
