package smime

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"

	"github.com/smallstep/pkcs7"

	"cloister/mailmsg/rawmime"
)

// Sign returns a multipart/signed entity (RFC 8551 section 3.5) whose first
// part is entity, a MIME entity (header fields, blank line, body), put in
// canonical CRLF form, and whose second part is a detached SHA-256
// application/pkcs7-signature by cert and key, carrying cert and chain. The
// caller puts the message's own header fields (From, To, Subject, ...) above
// the result. The entity should be 7-bit (quoted-printable or base64 bodies),
// so that no relay re-encodes it and breaks the signature.
func Sign(entity []byte, cert *x509.Certificate, key crypto.Signer, chain []*x509.Certificate) ([]byte, error) {
	if cert == nil || key == nil {
		return nil, fmt.Errorf("sign: no certificate or key")
	}
	signed := rawmime.Canonical(entity)
	if !bytes.Contains(signed, []byte("\r\n\r\n")) && !bytes.HasPrefix(signed, []byte("\r\n")) {
		return nil, fmt.Errorf("sign: the entity has no blank line between header and body")
	}
	sd, err := pkcs7.NewSignedData(signed)
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSignerChain(cert, key, chain, pkcs7.SignerInfoConfig{}); err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	sd.Detach()
	der, err := sd.Finish()
	if err != nil {
		return nil, fmt.Errorf("sign: %w", err)
	}
	boundary, err := newBoundary(signed)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	b.Grow(len(signed) + len(der)*4/3 + 512)
	fmt.Fprintf(&b, "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\";\r\n"+
		" micalg=sha-256; boundary=\"%s\"\r\n\r\n"+
		"This is a cryptographically signed message in MIME format.\r\n\r\n--%s\r\n", boundary, boundary)
	b.Write(signed)
	fmt.Fprintf(&b, "\r\n--%s\r\n"+
		"Content-Type: application/pkcs7-signature; name=\"smime.p7s\"\r\n"+
		"Content-Transfer-Encoding: base64\r\n"+
		"Content-Disposition: attachment; filename=\"smime.p7s\"\r\n"+
		"Content-Description: S/MIME Cryptographic Signature\r\n\r\n", boundary)
	writeBase64Lines(&b, base64.StdEncoding.EncodeToString(der))
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return b.Bytes(), nil
}

// newBoundary returns a random boundary that does not occur in content.
func newBoundary(content []byte) (string, error) {
	for range 8 {
		var r [18]byte
		if _, err := rand.Read(r[:]); err != nil {
			return "", fmt.Errorf("boundary: %w", err)
		}
		b := "------------ms" + hex.EncodeToString(r[:])
		if !bytes.Contains(content, []byte(b)) {
			return b, nil
		}
	}
	return "", fmt.Errorf("boundary: no unused boundary found")
}

// writeBase64Lines writes encoded text in lines of 76 characters, each
// ending in CRLF except the last.
func writeBase64Lines(b *bytes.Buffer, s string) {
	for len(s) > 76 {
		b.WriteString(s[:76])
		b.WriteString("\r\n")
		s = s[76:]
	}
	b.WriteString(s)
}
