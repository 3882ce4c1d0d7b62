package cms

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// wrapOIDForSize returns the AES key-wrap algorithm matching a content key size.
func wrapOIDForSize(n int) asn1.ObjectIdentifier {
	switch n {
	case 16:
		return oidAES128Wrap
	case 24:
		return oidAES192Wrap
	}
	return oidAES256Wrap
}

// wrapKeySize returns the KEK size of an AES key-wrap algorithm.
func wrapKeySize(oid asn1.ObjectIdentifier) (int, bool) {
	switch {
	case oid.Equal(oidAES128Wrap):
		return 16, true
	case oid.Equal(oidAES192Wrap):
		return 24, true
	case oid.Equal(oidAES256Wrap):
		return 32, true
	}
	return 0, false
}

// kdfHash maps a dhSinglePass key-agreement scheme (RFC 5753, RFC 8418 names)
// to the KDF's hash.
func kdfHash(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidStdDHSHA1KDF):
		return crypto.SHA1, true
	case oid.Equal(oidStdDHSHA224KDF), oid.Equal(oidCofactorDHSHA224KDF):
		return crypto.SHA224, true
	case oid.Equal(oidStdDHSHA256KDF), oid.Equal(oidCofactorDHSHA256KDF):
		return crypto.SHA256, true
	case oid.Equal(oidStdDHSHA384KDF), oid.Equal(oidCofactorDHSHA384KDF):
		return crypto.SHA384, true
	case oid.Equal(oidStdDHSHA512KDF), oid.Equal(oidCofactorDHSHA512KDF):
		return crypto.SHA512, true
	}
	return 0, false
}

// curveOID names an ecdh curve.
func curveOID(c ecdh.Curve) (asn1.ObjectIdentifier, bool) {
	switch c {
	case ecdh.P256():
		return oidCurveP256, true
	case ecdh.P384():
		return oidCurveP384, true
	case ecdh.P521():
		return oidCurveP521, true
	}
	return nil, false
}

// eccSharedInfo returns the DER ECC-CMS-SharedInfo of RFC 5753 section 7.2.
// keyInfo is the DER key-wrap AlgorithmIdentifier as the keyEncryptionAlgorithm
// parameters carry it: the KDF input must be the sender's bytes, and NSS
// (Thunderbird) writes NULL parameters for AES key wrap where RFC 3565 says
// absent; OpenSSL, too, derives the KEK from the identifier as received.
func eccSharedInfo(keyInfo, ukm []byte, kekBytes int) []byte {
	var bits [4]byte
	binary.BigEndian.PutUint32(bits[:], uint32(kekBytes*8))
	if ukm != nil {
		return tlv(0x30, keyInfo, tlv(0xa0, tlv(0x04, ukm)), tlv(0xa2, tlv(0x04, bits[:])))
	}
	return tlv(0x30, keyInfo, tlv(0xa2, tlv(0x04, bits[:])))
}

// keyAgreeRecipientInfo returns a DER KeyAgreeRecipientInfo (tagged [1])
// carrying cek for cert, made with an ephemeral ECDH key and
// dhSinglePass-stdDH-sha256kdf-scheme with AES key wrap: on the recipient's
// NIST curve (RFC 5753), or X25519 (RFC 8418, which keeps the same KDF and
// ECC-CMS-SharedInfo).
func keyAgreeRecipientInfo(cert *x509.Certificate, rpub *ecdh.PublicKey, cek []byte, rand io.Reader) ([]byte, error) {
	rid, err := issuerAndSerial(cert)
	if err != nil {
		return nil, err
	}
	curve := rpub.Curve()
	x25519 := curve == ecdh.X25519()
	if _, ok := curveOID(curve); !ok && !x25519 {
		return nil, fmt.Errorf("%w: recipient curve", ErrUnsupported)
	}
	eph, err := curve.GenerateKey(rand)
	if err != nil {
		return nil, fmt.Errorf("ephemeral key: %w", err)
	}
	z, err := eph.ECDH(rpub)
	if err != nil {
		return nil, fmt.Errorf("ecdh: %w", err)
	}
	wrapOID := wrapOIDForSize(len(cek))
	kekSize, _ := wrapKeySize(wrapOID)
	wrapAlg := tlv(0x30, mustMarshal(wrapOID))
	kek := x963KDF(crypto.SHA256.New, z, eccSharedInfo(wrapAlg, nil, kekSize), kekSize)
	ek, err := wrapKey(kek, cek)
	if err != nil {
		return nil, err
	}
	point := append([]byte{0}, eph.PublicKey().Bytes()...)
	// The curve is the recipient's; like OpenSSL, leave the parameters of
	// id-ecPublicKey absent (RFC 5753 section 3.1.1). id-X25519 has none
	// (RFC 8410 section 3), and its key is the 32 bytes of RFC 7748.
	origAlg := oidECPublicKey
	if x25519 {
		origAlg = oidX25519
	}
	originator := tlv(0xa0, tlv(0xa1, tlv(0x30, mustMarshal(origAlg)), tlv(0x03, point)))
	alg := tlv(0x30, mustMarshal(oidStdDHSHA256KDF), wrapAlg)
	reks := tlv(0x30, tlv(0x30, rid, tlv(0x04, ek)))
	return tlv(0xa1, version3, originator, alg, reks), nil
}

// ecdhPublic returns the ECDH form of a recipient certificate's key: an EC
// key on a NIST curve, or X25519, which crypto/x509 leaves unparsed in
// certificates (PublicKey nil) and ParsePKIXPublicKey reads.
func ecdhPublic(cert *x509.Certificate) (*ecdh.PublicKey, bool, error) {
	switch k := cert.PublicKey.(type) {
	case *ecdsa.PublicKey:
		e, err := k.ECDH()
		if err != nil {
			return nil, true, fmt.Errorf("%w: recipient EC key: %v", ErrUnsupported, err)
		}
		return e, true, nil
	case *ecdh.PublicKey:
		return k, true, nil
	case nil:
		if !isX25519SPKI(cert.RawSubjectPublicKeyInfo) {
			return nil, false, nil
		}
		pub, err := x509.ParsePKIXPublicKey(cert.RawSubjectPublicKeyInfo)
		if err != nil {
			return nil, true, fmt.Errorf("%w: X25519 key: %v", ErrMalformed, err)
		}
		e, ok := pub.(*ecdh.PublicKey)
		if !ok {
			return nil, true, fmt.Errorf("%w: X25519 key read as %T", ErrMalformed, pub)
		}
		return e, true, nil
	}
	return nil, false, nil
}

// isX25519SPKI reports whether a SubjectPublicKeyInfo names id-X25519.
func isX25519SPKI(spki []byte) bool {
	s := cryptobyte.String(spki)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) {
		return false
	}
	oid, _, err := readAlgID(&seq)
	return err == nil && oid.Equal(oidX25519)
}

// PublicKeyOf returns the public key of a certificate as crypto/x509 reads
// it, or, for an X25519 certificate (RFC 8410), which crypto/x509 leaves
// without a PublicKey, an *ecdh.PublicKey.
func PublicKeyOf(cert *x509.Certificate) (any, error) {
	if cert.PublicKey != nil {
		return cert.PublicKey, nil
	}
	pub, ok, err := ecdhPublic(cert)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, fmt.Errorf("%w: public key algorithm of the certificate", ErrUnsupported)
	}
	return pub, nil
}

// ecdhKey returns the ECDH form of a recipient's private key.
func ecdhKey(key crypto.PrivateKey) (*ecdh.PrivateKey, error) {
	switch k := key.(type) {
	case *ecdsa.PrivateKey:
		e, err := k.ECDH()
		if err != nil {
			return nil, fmt.Errorf("%w: EC key: %v", ErrUnsupported, err)
		}
		return e, nil
	case *ecdh.PrivateKey:
		return k, nil
	}
	return nil, fmt.Errorf("%w: key agreement needs an EC key, have %T", ErrUnsupported, key)
}

// kariMatch finds, in the body of a KeyAgreeRecipientInfo, the encrypted key
// for cert. found is false when the info names other recipients only.
func kariMatch(body cryptobyte.String, cert *x509.Certificate) (origAlg asn1.ObjectIdentifier, origPub, ukm []byte, alg asn1.ObjectIdentifier, algParams, ek []byte, found bool, err error) {
	bad := func(what string) error { return fmt.Errorf("%w: key agreement recipient info: %s", ErrMalformed, what) }
	var version int
	var orig, ukmWrap cryptobyte.String
	var hasUKM bool
	if !body.ReadASN1Integer(&version) || !body.ReadASN1(&orig, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!body.ReadOptionalASN1(&ukmWrap, &hasUKM, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, nil, nil, nil, nil, nil, false, bad("header")
	}
	if hasUKM && !ukmWrap.ReadASN1Bytes(&ukm, cbasn1.OCTET_STRING) {
		return nil, nil, nil, nil, nil, nil, false, bad("ukm")
	}
	alg, algParams, err = readAlgID(&body)
	if err != nil {
		return nil, nil, nil, nil, nil, nil, false, err
	}
	var reks cryptobyte.String
	if !body.ReadASN1(&reks, cbasn1.SEQUENCE) {
		return nil, nil, nil, nil, nil, nil, false, bad("recipient keys")
	}
	for n := 0; !reks.Empty(); n++ {
		if n >= MaxRecipients {
			return nil, nil, nil, nil, nil, nil, false, fmt.Errorf("%w: more than %d recipient keys", ErrTooLarge, MaxRecipients)
		}
		var rek cryptobyte.String
		var key []byte
		if !reks.ReadASN1(&rek, cbasn1.SEQUENCE) {
			return nil, nil, nil, nil, nil, nil, false, bad("recipient key")
		}
		var ridElem cryptobyte.String
		var tag cbasn1.Tag
		if !rek.ReadAnyASN1Element(&ridElem, &tag) || !rek.ReadASN1Bytes(&key, cbasn1.OCTET_STRING) {
			return nil, nil, nil, nil, nil, nil, false, bad("recipient key")
		}
		match := false
		switch tag {
		case cbasn1.SEQUENCE:
			match = matchIssuerSerial(ridElem, cert)
		case cbasn1.Tag(0).Constructed().ContextSpecific(): // rKeyId
			var rk, ski cryptobyte.String
			if ridElem.ReadASN1(&rk, tag) && rk.ReadASN1(&ski, cbasn1.OCTET_STRING) {
				match = len(cert.SubjectKeyId) > 0 && string(ski) == string(cert.SubjectKeyId)
			}
		}
		if match {
			ek = key
			found = true
			break
		}
	}
	if !found {
		return nil, nil, nil, nil, nil, nil, false, nil
	}
	// originator: only originatorKey [1] (ephemeral-static) is supported.
	var okey, palg, point cryptobyte.String
	if !orig.ReadASN1(&okey, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, nil, nil, nil, nil, nil, false, fmt.Errorf("%w: key agreement with a static originator key", ErrUnsupported)
	}
	if !okey.ReadASN1(&palg, cbasn1.SEQUENCE) || !okey.ReadASN1(&point, cbasn1.BIT_STRING) || len(point) < 2 || point[0] != 0 {
		return nil, nil, nil, nil, nil, nil, false, bad("originator key")
	}
	if !palg.ReadASN1ObjectIdentifier(&origAlg) {
		return nil, nil, nil, nil, nil, nil, false, bad("originator key algorithm")
	}
	return origAlg, []byte(point[1:]), ukm, alg, algParams, ek, true, nil
}

// decryptKeyAgree recovers the content key from a KeyAgreeRecipientInfo.
func decryptKeyAgree(key crypto.PrivateKey, origAlg asn1.ObjectIdentifier, origPub, ukm []byte, alg asn1.ObjectIdentifier, algParams, ek []byte) ([]byte, error) {
	priv, err := ecdhKey(key)
	if err != nil {
		return nil, err
	}
	// The originator's key must be of the recipient's kind: id-X25519 for
	// an X25519 key (RFC 8418 section 2), id-ecPublicKey on the curve of a
	// NIST key.
	if x := priv.Curve() == ecdh.X25519(); x != origAlg.Equal(oidX25519) || !x && !origAlg.Equal(oidECPublicKey) {
		return nil, fmt.Errorf("%w: originator key algorithm %v for a %v recipient key", ErrMalformed, origAlg, priv.Curve())
	}
	h, ok := kdfHash(alg)
	if !ok {
		return nil, fmt.Errorf("%w: key agreement scheme %v", ErrUnsupported, alg)
	}
	// algParams is the key-wrap AlgorithmIdentifier, read whole (DER).
	ps := cryptobyte.String(algParams)
	wrapOID, _, err := readAlgID(&ps)
	if err != nil {
		return nil, err
	}
	kekSize, ok := wrapKeySize(wrapOID)
	if !ok {
		return nil, fmt.Errorf("%w: key wrap %v", ErrUnsupported, wrapOID)
	}
	opub, err := priv.Curve().NewPublicKey(origPub)
	if err != nil {
		return nil, fmt.Errorf("%w: originator key (%d bytes) is not a point of the recipient's curve %v: %v", ErrMalformed, len(origPub), priv.Curve(), err)
	}
	z, err := priv.ECDH(opub)
	if err != nil {
		return nil, fmt.Errorf("%w: ecdh: %v", ErrDecrypt, err)
	}
	kek := x963KDF(h.New, z, eccSharedInfo(algParams, ukm, kekSize), kekSize)
	return unwrapKey(kek, ek)
}
