package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Errors of signature verification; callers test them with errors.Is.
var (
	// ErrDigestMismatch means the messageDigest signed attribute is not the
	// digest of the content: the content was changed after it was signed.
	ErrDigestMismatch = errors.New("cms: message digest mismatch")
	// ErrBadSignature means the signature value does not verify with the
	// signer's public key.
	ErrBadSignature = errors.New("cms: signature does not verify")
)

var (
	oidMessageDigestAttr = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
	oidRSASSAPSS         = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 10}
	oidSHA256WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 11}
	oidSHA384WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 12}
	oidSHA512WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 13}
	oidSHA224WithRSA     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 14}
	oidECDSASHA224       = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 1}
	oidECDSASHA256       = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	oidECDSASHA384       = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 3}
	oidECDSASHA512       = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 4}
	oidEd25519           = asn1.ObjectIdentifier{1, 3, 101, 112}
)

// SignerInfo is what VerifySignerInfo needs of one CMS SignerInfo
// (RFC 5652 section 5.3).
type SignerInfo struct {
	DigestAlgorithm asn1.ObjectIdentifier // the digestAlgorithm
	// SignatureAlgorithm and SignatureParams are the signatureAlgorithm's
	// OID and the DER of its parameters (nil when absent).
	SignatureAlgorithm asn1.ObjectIdentifier
	SignatureParams    []byte
	// SignedAttrs is the DER SET OF the signed attributes, as the signature
	// covers it (RFC 5652 section 5.4), or nil when there are none.
	SignedAttrs []byte
	Signature   []byte // the signature value
}

// digestHash maps a digest algorithm to its hash; SHA-1 and MD5 are not
// offered (RFC 8551 section 2.1).
func digestHash(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	if oid.Equal(oidSHA1) {
		return 0, false
	}
	return hashForOID(oid)
}

// VerifySignerInfo checks one signer's signature over content with the
// public key of cert: the messageDigest signed attribute against the digest
// of content, then the signature over the signed attributes (or over the
// content when there are none). It reads RSA PKCS #1 v1.5 (RFC 5754),
// RSASSA-PSS (RFC 4056), ECDSA (RFC 5753) and Ed25519 (RFC 8419) signatures
// with SHA-224 to SHA-512 digests. Errors wrap ErrDigestMismatch,
// ErrBadSignature, ErrMalformed or ErrUnsupported.
func VerifySignerInfo(cert *x509.Certificate, si SignerInfo, content []byte) error {
	h, ok := digestHash(si.DigestAlgorithm)
	if !ok {
		return fmt.Errorf("%w: digest algorithm %v", ErrUnsupported, si.DigestAlgorithm)
	}
	message := content
	if si.SignedAttrs != nil {
		want, err := messageDigestAttr(si.SignedAttrs)
		if err != nil {
			return err
		}
		d := h.New()
		d.Write(content)
		if subtle.ConstantTimeCompare(want, d.Sum(nil)) != 1 {
			return ErrDigestMismatch
		}
		message = si.SignedAttrs
	}
	alg := si.SignatureAlgorithm
	switch {
	case alg.Equal(oidEd25519):
		return verifyEd25519(cert, si, h, message)
	case alg.Equal(oidRSASSAPSS):
		return verifyPSS(cert, si, h, message)
	case alg.Equal(oidRSAEncryption), alg.Equal(oidSHA224WithRSA), alg.Equal(oidSHA256WithRSA),
		alg.Equal(oidSHA384WithRSA), alg.Equal(oidSHA512WithRSA):
		if sh, ok := rsaSigHash(alg); ok && sh != h {
			return fmt.Errorf("%w: signature algorithm %v with digest %v", ErrMalformed, alg, si.DigestAlgorithm)
		}
		pub, ok := cert.PublicKey.(*rsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: an RSA signature with a %T key", ErrMalformed, cert.PublicKey)
		}
		if err := rsa.VerifyPKCS1v15(pub, h, sum(h, message), si.Signature); err != nil {
			return ErrBadSignature
		}
		return nil
	case alg.Equal(oidECPublicKey), alg.Equal(oidECDSASHA224), alg.Equal(oidECDSASHA256),
		alg.Equal(oidECDSASHA384), alg.Equal(oidECDSASHA512):
		pub, ok := cert.PublicKey.(*ecdsa.PublicKey)
		if !ok {
			return fmt.Errorf("%w: an ECDSA signature with a %T key", ErrMalformed, cert.PublicKey)
		}
		if !ecdsa.VerifyASN1(pub, sum(h, message), si.Signature) {
			return ErrBadSignature
		}
		return nil
	}
	return fmt.Errorf("%w: signature algorithm %v", ErrUnsupported, alg)
}

func sum(h crypto.Hash, b []byte) []byte {
	d := h.New()
	d.Write(b)
	return d.Sum(nil)
}

// rsaSigHash returns the hash named by a shaNNNWithRSAEncryption OID.
func rsaSigHash(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA224WithRSA):
		return crypto.SHA224, true
	case oid.Equal(oidSHA256WithRSA):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384WithRSA):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512WithRSA):
		return crypto.SHA512, true
	}
	return 0, false
}

// verifyEd25519 checks a PureEdDSA signature (RFC 8419): the signature
// algorithm has no parameters, and with signed attributes the digest
// algorithm must be SHA-512 (section 3.1).
func verifyEd25519(cert *x509.Certificate, si SignerInfo, h crypto.Hash, message []byte) error {
	if si.SignatureParams != nil {
		return fmt.Errorf("%w: Ed25519 signature algorithm with parameters", ErrMalformed)
	}
	if si.SignedAttrs != nil && h != crypto.SHA512 {
		return fmt.Errorf("%w: Ed25519 signature with signed attributes must use SHA-512, not %v", ErrMalformed, h)
	}
	pub, ok := cert.PublicKey.(ed25519.PublicKey)
	if !ok {
		return fmt.Errorf("%w: an Ed25519 signature with a %T key", ErrMalformed, cert.PublicKey)
	}
	if len(si.Signature) != ed25519.SignatureSize || !ed25519.Verify(pub, message, si.Signature) {
		return ErrBadSignature
	}
	return nil
}

// verifyPSS checks an RSASSA-PSS signature (RFC 4056). The parameters must
// name the digest algorithm's hash, MGF1 with that same hash, and the
// trailer field 1; the salt length is taken as given.
func verifyPSS(cert *x509.Certificate, si SignerInfo, h crypto.Hash, message []byte) error {
	p, err := parsePSSParams(si.SignatureParams)
	if err != nil {
		return err
	}
	if p.hash != h {
		return fmt.Errorf("%w: RSASSA-PSS hash %v differs from the digest algorithm %v", ErrMalformed, p.hash, h)
	}
	if p.mgfHash != h {
		return fmt.Errorf("%w: RSASSA-PSS mask generation hash %v differs from the hash %v", ErrUnsupported, p.mgfHash, h)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: an RSASSA-PSS signature with a %T key", ErrMalformed, cert.PublicKey)
	}
	if p.salt > pub.Size()-h.Size()-2 {
		return fmt.Errorf("%w: RSASSA-PSS salt length %d is too long for the key", ErrMalformed, p.salt)
	}
	// A declared salt length of 0 is rsa.PSSSaltLengthAuto to Go: such a
	// signature is checked with whatever salt it carries, which PSS's
	// security does not depend on.
	opts := &rsa.PSSOptions{Hash: h, SaltLength: p.salt}
	if err := rsa.VerifyPSS(pub, h, sum(h, message), si.Signature, opts); err != nil {
		return ErrBadSignature
	}
	return nil
}

// pssParams are the RSASSA-PSS-params of RFC 4055 section 3.1.
type pssParams struct {
	hash, mgfHash crypto.Hash
	salt          int
}

// parsePSSParams reads RSASSA-PSS-params. Absent fields take their DEFAULT
// (SHA-1, MGF1 with SHA-1, salt 20, trailer 1); SHA-1 is then refused by
// the caller's hash comparison, as the digest algorithm cannot be SHA-1.
func parsePSSParams(der []byte) (pssParams, error) {
	bad := func(what string) (pssParams, error) {
		return pssParams{}, fmt.Errorf("%w: RSASSA-PSS parameters: %s", ErrMalformed, what)
	}
	p := pssParams{hash: crypto.SHA1, mgfHash: crypto.SHA1, salt: 20}
	if der == nil {
		return bad("absent (RFC 4056 requires them)")
	}
	s := cryptobyte.String(der)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return bad("not a SEQUENCE")
	}
	hashOf := func(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
		if oid.Equal(oidSHA1) {
			return crypto.SHA1, true
		}
		return digestHash(oid)
	}
	var field cryptobyte.String
	var present bool
	if !seq.ReadOptionalASN1(&field, &present, tagContext0) {
		return bad("hashAlgorithm")
	}
	if present {
		oid, _, err := readAlgID(&field)
		if err != nil || !field.Empty() {
			return bad("hashAlgorithm")
		}
		h, ok := hashOf(oid)
		if !ok {
			return pssParams{}, fmt.Errorf("%w: RSASSA-PSS hash %v", ErrUnsupported, oid)
		}
		p.hash = h
	}
	if !seq.ReadOptionalASN1(&field, &present, tagContext1) {
		return bad("maskGenAlgorithm")
	}
	if present {
		oid, params, err := readAlgID(&field)
		if err != nil || !field.Empty() {
			return bad("maskGenAlgorithm")
		}
		if !oid.Equal(oidMGF1) {
			return pssParams{}, fmt.Errorf("%w: RSASSA-PSS mask generation function %v", ErrUnsupported, oid)
		}
		ps := cryptobyte.String(params)
		hoid, _, err := readAlgID(&ps)
		if err != nil || !ps.Empty() {
			return bad("MGF1 hash")
		}
		h, ok := hashOf(hoid)
		if !ok {
			return pssParams{}, fmt.Errorf("%w: RSASSA-PSS MGF1 hash %v", ErrUnsupported, hoid)
		}
		p.mgfHash = h
	}
	if !seq.ReadOptionalASN1(&field, &present, tagContext2) {
		return bad("saltLength")
	}
	if present {
		var n int64
		if !field.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || !field.Empty() || n < 0 || n > 1024 {
			return bad("saltLength")
		}
		p.salt = int(n)
	}
	if !seq.ReadOptionalASN1(&field, &present, cbasn1.Tag(3).Constructed().ContextSpecific()) {
		return bad("trailerField")
	}
	if present {
		var n int64
		if !field.ReadASN1Int64WithTag(&n, cbasn1.INTEGER) || !field.Empty() || n != 1 {
			return bad("trailerField must be 1")
		}
	}
	if !seq.Empty() {
		return bad("trailing data")
	}
	return p, nil
}

// messageDigestAttr returns the value of the single messageDigest attribute
// in a DER SET OF Attribute.
func messageDigestAttr(attrs []byte) ([]byte, error) {
	bad := func(what string) ([]byte, error) {
		return nil, fmt.Errorf("%w: signed attributes: %s", ErrMalformed, what)
	}
	s := cryptobyte.String(attrs)
	var set cryptobyte.String
	if !s.ReadASN1(&set, cbasn1.SET) || !s.Empty() {
		return bad("not a SET")
	}
	var digest []byte
	found := false
	for !set.Empty() {
		var attr, values cryptobyte.String
		var oid asn1.ObjectIdentifier
		if !set.ReadASN1(&attr, cbasn1.SEQUENCE) || !attr.ReadASN1ObjectIdentifier(&oid) ||
			!attr.ReadASN1(&values, cbasn1.SET) || !attr.Empty() {
			return bad("attribute")
		}
		if !oid.Equal(oidMessageDigestAttr) {
			continue
		}
		var v []byte
		if found || !values.ReadASN1Bytes(&v, cbasn1.OCTET_STRING) || !values.Empty() {
			return bad("messageDigest must be one OCTET STRING in one attribute")
		}
		digest, found = v, true
	}
	if !found {
		return bad("no messageDigest")
	}
	return digest, nil
}
