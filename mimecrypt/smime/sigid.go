package smime

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"encoding/hex"
	"time"

	"github.com/smallstep/pkcs7"
)

// sigIDDomain starts every CMS signature identity, so that it can never equal
// an OpenPGP one or a hash computed for another purpose.
const sigIDDomain = "cloister cms signature id v1"

// signedAttribute mirrors a CMS Attribute (RFC 5652 5.3) for re-encoding.
type signedAttribute struct {
	Type  asn1.ObjectIdentifier
	Value asn1.RawValue `asn1:"set"`
}

// signatureID returns the replay identity of the first SignerInfo of a
// verified SignedData: what was signed, not how the CMS object happens to be
// encoded. It hashes the signer's public key (SHA-256 of the
// SubjectPublicKeyInfo of the certificate that verified the signature), the
// digest algorithm, and either the signed attributes re-encoded as the DER
// SET OF that the signature covers (RFC 5652 5.4: they carry the content
// type, the content digest and the signing time), or, for a signature
// without signed attributes, the SHA-256 of the signed content.
//
// Left out on purpose: the unsigned attributes, the certificate and CRL sets,
// the signer identifier (issuer and serial or subject key identifier: another
// certificate for the same key verifies the same signature), BER versus DER
// framing, and the signature value (ECDSA signatures can be made anew over
// the same digest). Two signatures share an identity only when the same key
// signed the same attributes or content.
func signatureID(signer *x509.Certificate, p7 *pkcs7.PKCS7) string {
	if signer == nil || p7 == nil || len(p7.Signers) == 0 {
		return ""
	}
	si := p7.Signers[0]
	var signed []byte
	if len(si.AuthenticatedAttributes) > 0 {
		attrs := make([]signedAttribute, 0, len(si.AuthenticatedAttributes))
		for _, a := range si.AuthenticatedAttributes {
			attrs = append(attrs, signedAttribute{Type: a.Type, Value: a.Value})
		}
		der, err := signedAttributesDER(attrs)
		if err != nil {
			return ""
		}
		signed = der
	} else {
		sum := sha256.Sum256(p7.Content)
		signed = sum[:]
	}
	key := sha256.Sum256(signer.RawSubjectPublicKeyInfo)
	h := sha256.New()
	field := func(b []byte) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(b)))
		h.Write(n[:])
		h.Write(b)
	}
	field([]byte(sigIDDomain))
	field(key[:])
	field([]byte(si.DigestAlgorithm.Algorithm.String()))
	if len(si.AuthenticatedAttributes) > 0 {
		field([]byte("signed-attributes"))
	} else {
		field([]byte("content"))
	}
	field(signed)
	return "cms:" + hex.EncodeToString(h.Sum(nil))
}

// signedAttributesDER encodes signed attributes as the DER SET OF over which
// the signature is computed (RFC 5652 5.4): encoding/asn1 sorts the elements
// of a SET OF by their encodings, whatever order the sender used, as the
// verifier does before checking the signature.
func signedAttributesDER(attrs []signedAttribute) ([]byte, error) {
	enc, err := asn1.Marshal(struct {
		A []signedAttribute `asn1:"set"`
	}{A: attrs})
	if err != nil {
		return nil, err
	}
	var seq asn1.RawValue
	if _, err := asn1.Unmarshal(enc, &seq); err != nil {
		return nil, err
	}
	return seq.Bytes, nil // the SET, without the SEQUENCE around it
}

// signingTime returns the signingTime signed attribute of the first signer,
// or the zero time without one.
func signingTime(p7 *pkcs7.PKCS7) time.Time {
	var t time.Time
	if err := p7.UnmarshalSignedAttribute(oidSigningTime, &t); err != nil {
		return time.Time{}
	}
	return t
}
