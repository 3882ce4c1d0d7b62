package cms

import (
	"crypto"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// KeyTransport chooses how RSA recipients receive the content-encryption key.
type KeyTransport int

// RSA key transport schemes.
const (
	// RSAPKCS1v15 is rsaEncryption, read by every S/MIME client.
	RSAPKCS1v15 KeyTransport = iota
	// RSAOAEP is RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 8017, RFC 4055).
	RSAOAEP
)

// DER encodings of the RSA key-encryption AlgorithmIdentifiers written here.
var (
	algRSAEncryption = mustMarshal(struct {
		OID  asn1.ObjectIdentifier
		Null asn1.RawValue
	}{oidRSAEncryption, asn1.NullRawValue})
	algSHA256  = mustMarshal(struct{ OID asn1.ObjectIdentifier }{oidSHA256})
	algMGF1    = tlv(0x30, mustMarshal(oidMGF1), algSHA256)
	algRSAOAEP = tlv(0x30, mustMarshal(oidRSAOAEP), tlv(0x30, tlv(0xa0, algSHA256), tlv(0xa1, algMGF1)))
	version0   = []byte{0x02, 0x01, 0x00}
	version2   = []byte{0x02, 0x01, 0x02}
	version3   = []byte{0x02, 0x01, 0x03}
)

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// issuerAndSerial returns the DER IssuerAndSerialNumber naming cert.
func issuerAndSerial(cert *x509.Certificate) ([]byte, error) {
	if cert.SerialNumber == nil || len(cert.RawIssuer) == 0 {
		return nil, fmt.Errorf("certificate without issuer or serial number")
	}
	serial, err := asn1.Marshal(cert.SerialNumber)
	if err != nil {
		return nil, fmt.Errorf("certificate serial: %w", err)
	}
	return tlv(0x30, cert.RawIssuer, serial), nil
}

// keyTransRecipientInfo returns a DER KeyTransRecipientInfo carrying cek for cert.
func keyTransRecipientInfo(cert *x509.Certificate, pub *rsa.PublicKey, cek []byte, kt KeyTransport, rand io.Reader) ([]byte, error) {
	rid, err := issuerAndSerial(cert)
	if err != nil {
		return nil, err
	}
	var ek, alg []byte
	switch kt {
	case RSAPKCS1v15:
		//lint:ignore SA1019 rsaEncryption key transport (RFC 5652, RFC 8551 §2.3) is what many S/MIME clients still require; RSAOAEP is the other choice
		ek, err = rsa.EncryptPKCS1v15(rand, pub, cek)
		alg = algRSAEncryption
	case RSAOAEP:
		ek, err = rsa.EncryptOAEP(crypto.SHA256.New(), rand, pub, cek, nil)
		alg = algRSAOAEP
	default:
		return nil, fmt.Errorf("%w: key transport %d", ErrUnsupported, kt)
	}
	if err != nil {
		return nil, fmt.Errorf("rsa key transport: %w", err)
	}
	return tlv(0x30, version0, rid, alg, tlv(0x04, ek)), nil
}

// hashForOID maps a digest AlgorithmIdentifier OID to a hash.
func hashForOID(oid asn1.ObjectIdentifier) (crypto.Hash, bool) {
	switch {
	case oid.Equal(oidSHA1):
		return crypto.SHA1, true
	case oid.Equal(oidSHA224):
		return crypto.SHA224, true
	case oid.Equal(oidSHA256):
		return crypto.SHA256, true
	case oid.Equal(oidSHA384):
		return crypto.SHA384, true
	case oid.Equal(oidSHA512):
		return crypto.SHA512, true
	}
	return 0, false
}

// oaepOptions reads RSAES-OAEP-params (RFC 4055), whose defaults are SHA-1,
// MGF1-SHA-1 and an empty label.
func oaepOptions(params []byte) (*rsa.OAEPOptions, error) {
	opts := &rsa.OAEPOptions{Hash: crypto.SHA1, MGFHash: crypto.SHA1}
	if len(params) == 0 || (len(params) == 2 && params[0] == 0x05) {
		return opts, nil
	}
	s := cryptobyte.String(params)
	var seq cryptobyte.String
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !s.Empty() {
		return nil, fmt.Errorf("%w: RSAES-OAEP parameters", ErrMalformed)
	}
	var hashAlg, mgfAlg, pSrc cryptobyte.String
	var hasHash, hasMGF, hasP bool
	if !seq.ReadOptionalASN1(&hashAlg, &hasHash, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&mgfAlg, &hasMGF, cbasn1.Tag(1).Constructed().ContextSpecific()) ||
		!seq.ReadOptionalASN1(&pSrc, &hasP, cbasn1.Tag(2).Constructed().ContextSpecific()) || !seq.Empty() {
		return nil, fmt.Errorf("%w: RSAES-OAEP parameters", ErrMalformed)
	}
	if hasHash {
		oid, _, err := readAlgID(&hashAlg)
		if err != nil {
			return nil, err
		}
		h, ok := hashForOID(oid)
		if !ok {
			return nil, fmt.Errorf("%w: OAEP hash %v", ErrUnsupported, oid)
		}
		opts.Hash = h // the MGF stays MGF1-SHA-1 unless given
	}
	if hasMGF {
		oid, p, err := readAlgID(&mgfAlg)
		if err != nil {
			return nil, err
		}
		if !oid.Equal(oidMGF1) {
			return nil, fmt.Errorf("%w: OAEP mask generation %v", ErrUnsupported, oid)
		}
		ps := cryptobyte.String(p)
		hoid, _, err := readAlgID(&ps)
		if err != nil {
			return nil, err
		}
		h, ok := hashForOID(hoid)
		if !ok {
			return nil, fmt.Errorf("%w: MGF1 hash %v", ErrUnsupported, hoid)
		}
		opts.MGFHash = h
	}
	if hasP {
		oid, p, err := readAlgID(&pSrc)
		if err != nil {
			return nil, err
		}
		if !oid.Equal(oidPSpecified) {
			return nil, fmt.Errorf("%w: OAEP label source %v", ErrUnsupported, oid)
		}
		ps := cryptobyte.String(p)
		var label []byte
		if !ps.ReadASN1Bytes(&label, cbasn1.OCTET_STRING) {
			return nil, fmt.Errorf("%w: OAEP label", ErrMalformed)
		}
		opts.Label = label
	}
	return opts, nil
}

// decryptKeyTrans recovers the content key from a KeyTransRecipientInfo's
// encrypted key. keySize is the content key size the cipher needs.
func decryptKeyTrans(key crypto.PrivateKey, algOID asn1.ObjectIdentifier, params, ek []byte, keySize int, rand io.Reader) ([]byte, error) {
	dec, ok := key.(crypto.Decrypter)
	if !ok {
		return nil, fmt.Errorf("%w: key transport needs an RSA key, have %T", ErrUnsupported, key)
	}
	if _, ok := dec.Public().(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("%w: key transport needs an RSA key, have %T", ErrUnsupported, dec.Public())
	}
	switch {
	case algOID.Equal(oidRSAEncryption):
		// Implicit rejection: a wrong key yields a random content key, which
		// then fails padding or authentication, with no early distinguisher.
		//lint:ignore SA1019 rsaEncryption key transport from S/MIME clients that send it; implicit rejection as above
		cek, err := dec.Decrypt(rand, ek, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: keySize})
		if err != nil {
			return nil, fmt.Errorf("%w: rsa: %v", ErrDecrypt, err)
		}
		return cek, nil
	case algOID.Equal(oidRSAOAEP):
		opts, err := oaepOptions(params)
		if err != nil {
			return nil, err
		}
		cek, err := dec.Decrypt(rand, ek, opts)
		if err != nil {
			return nil, fmt.Errorf("%w: rsa-oaep: %v", ErrDecrypt, err)
		}
		return cek, nil
	}
	return nil, fmt.Errorf("%w: key transport %v", ErrUnsupported, algOID)
}
