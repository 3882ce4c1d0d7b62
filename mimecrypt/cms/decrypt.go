package cms

import (
	"crypto"
	"crypto/rand"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"math/big"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// Decrypted is the content of an opened envelope.
type Decrypted struct {
	Content     []byte                // the decrypted content octets
	ContentType asn1.ObjectIdentifier // the type of the decrypted content, normally OIDData
	Cipher      Cipher                // the content-encryption algorithm used
}

var (
	tagContext0 = cbasn1.Tag(0).Constructed().ContextSpecific()
	tagContext1 = cbasn1.Tag(1).Constructed().ContextSpecific()
	tagContext2 = cbasn1.Tag(2).Constructed().ContextSpecific()
)

// readAlgID reads an AlgorithmIdentifier and returns its OID and the DER of its
// parameters (nil when absent).
func readAlgID(s *cryptobyte.String) (asn1.ObjectIdentifier, []byte, error) {
	var seq cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, fmt.Errorf("%w: algorithm identifier", ErrMalformed)
	}
	var params []byte
	if !seq.Empty() {
		var p cryptobyte.String
		if !seq.ReadAnyASN1Element(&p, nil) || !seq.Empty() {
			return nil, nil, fmt.Errorf("%w: algorithm parameters", ErrMalformed)
		}
		params = p
	}
	return oid, params, nil
}

// readContentInfo reads a normalised ContentInfo and returns its type and the
// DER of its explicit content.
func readContentInfo(der []byte) (asn1.ObjectIdentifier, cryptobyte.String, error) {
	s := cryptobyte.String(der)
	var ci, wrap cryptobyte.String
	var oid asn1.ObjectIdentifier
	if !s.ReadASN1(&ci, cbasn1.SEQUENCE) || !s.Empty() || !ci.ReadASN1ObjectIdentifier(&oid) {
		return nil, nil, fmt.Errorf("%w: not a CMS ContentInfo", ErrMalformed)
	}
	if ci.Empty() {
		return oid, nil, nil
	}
	if !ci.ReadASN1(&wrap, tagContext0) || !ci.Empty() {
		return nil, nil, fmt.Errorf("%w: ContentInfo content", ErrMalformed)
	}
	return oid, wrap, nil
}

// ContentType returns the content type of a BER or DER ContentInfo, such as
// OIDEnvelopedData or OIDSignedData, after checking its bounds.
func ContentType(ber []byte) (asn1.ObjectIdentifier, error) {
	der, err := Normalize(ber)
	if err != nil {
		return nil, err
	}
	oid, _, err := readContentInfo(der)
	return oid, err
}

// readOctets reads an OCTET STRING that may be encoded primitive or, under an
// implicit context tag, constructed from primitive chunks.
func readOctets(s *cryptobyte.String, tag cbasn1.Tag) ([]byte, bool, error) {
	var out cryptobyte.String
	if s.PeekASN1Tag(tag) {
		s.ReadASN1(&out, tag)
		return out, true, nil
	}
	ctag := tag | 0x20
	if !s.PeekASN1Tag(ctag) {
		return nil, false, nil
	}
	var body cryptobyte.String
	s.ReadASN1(&body, ctag)
	var joined []byte
	for !body.Empty() {
		var chunk cryptobyte.String
		if !body.ReadASN1(&chunk, cbasn1.OCTET_STRING) {
			return nil, false, fmt.Errorf("%w: constructed string holds a non-string", ErrMalformed)
		}
		joined = append(joined, chunk...)
	}
	return joined, true, nil
}

// envelope is the parsed form of EnvelopedData or AuthEnvelopedData.
type envelope struct {
	recipients  cryptobyte.String // contents of the RecipientInfos SET
	contentType asn1.ObjectIdentifier
	cipher      Cipher
	params      []byte
	ciphertext  []byte
	authAttrs   []byte // DER of authAttrs retagged as SET OF, the GCM AAD
	mac         []byte
	inClear     []string // the optional fields in the clear it holds, by name
}

// parseEnvelope reads the body of an EnvelopedData or AuthEnvelopedData.
func parseEnvelope(body cryptobyte.String, auth bool) (*envelope, error) {
	bad := func(what string) error { return fmt.Errorf("%w: enveloped data: %s", ErrMalformed, what) }
	var sd cryptobyte.String
	var version int
	if !body.ReadASN1(&sd, cbasn1.SEQUENCE) || !body.Empty() || !sd.ReadASN1Integer(&version) {
		return nil, bad("header")
	}
	e := &envelope{}
	if sd.PeekASN1Tag(tagContext0) {
		e.inClear = append(e.inClear, "originator info")
	}
	if !sd.SkipOptionalASN1(tagContext0) { // originatorInfo
		return nil, bad("originator info")
	}
	var eci cryptobyte.String
	if !sd.ReadASN1(&e.recipients, cbasn1.SET) || !sd.ReadASN1(&eci, cbasn1.SEQUENCE) {
		return nil, bad("recipient infos")
	}
	if !eci.ReadASN1ObjectIdentifier(&e.contentType) {
		return nil, bad("content type")
	}
	oid, params, err := readAlgID(&eci)
	if err != nil {
		return nil, err
	}
	c, ok := cipherForOID(oid)
	if !ok {
		return nil, fmt.Errorf("%w: content encryption %v", ErrUnsupported, oid)
	}
	if c.Authenticated() != auth {
		return nil, fmt.Errorf("%w: %v in the wrong envelope type", ErrUnsupported, c)
	}
	e.cipher, e.params = c, params
	ct, present, err := readOctets(&eci, cbasn1.Tag(0).ContextSpecific())
	if err != nil {
		return nil, err
	}
	if !present || !eci.Empty() {
		return nil, bad("detached or malformed encrypted content")
	}
	e.ciphertext = ct
	if auth {
		if sd.PeekASN1Tag(tagContext1) {
			var attrs cryptobyte.String
			if !sd.ReadASN1Element(&attrs, tagContext1) {
				return nil, bad("authenticated attributes")
			}
			e.inClear = append(e.inClear, "authenticated attributes")
			aad := append([]byte(nil), attrs...)
			aad[0] = 0x31 // the MAC covers the attributes DER-encoded as SET OF
			e.authAttrs = aad
		}
		if !sd.ReadASN1Bytes(&e.mac, cbasn1.OCTET_STRING) {
			return nil, bad("mac")
		}
		if sd.PeekASN1Tag(tagContext2) {
			e.inClear = append(e.inClear, "unauthenticated attributes")
		}
		if !sd.SkipOptionalASN1(tagContext2) {
			return nil, bad("unauthenticated attributes")
		}
	} else {
		if sd.PeekASN1Tag(tagContext1) {
			e.inClear = append(e.inClear, "unprotected attributes")
		}
		if !sd.SkipOptionalASN1(tagContext1) {
			return nil, bad("unprotected attributes")
		}
	}
	if !sd.Empty() {
		return nil, bad("trailing fields")
	}
	return e, nil
}

// matchIssuerSerial reports whether a DER IssuerAndSerialNumber names cert.
func matchIssuerSerial(ias cryptobyte.String, cert *x509.Certificate) bool {
	var seq, issuer cryptobyte.String
	serial := new(big.Int)
	if !ias.ReadASN1(&seq, cbasn1.SEQUENCE) || !seq.ReadASN1Element(&issuer, cbasn1.SEQUENCE) || !seq.ReadASN1Integer(serial) {
		return false
	}
	return string(issuer) == string(cert.RawIssuer) && cert.SerialNumber != nil && serial.Cmp(cert.SerialNumber) == 0
}

// eachRecipientInfo calls fn with the tag and body of each RecipientInfo
// of e, in order, until fn says it is done; at most MaxRecipients are read.
func (e *envelope) eachRecipientInfo(fn func(tag cbasn1.Tag, ri cryptobyte.String) (done bool, err error)) error {
	ris := e.recipients
	for n := 0; !ris.Empty(); n++ {
		if n >= MaxRecipients {
			return fmt.Errorf("%w: more than %d recipient infos", ErrTooLarge, MaxRecipients)
		}
		var ri cryptobyte.String
		var tag cbasn1.Tag
		if !ris.ReadAnyASN1(&ri, &tag) {
			return fmt.Errorf("%w: recipient info", ErrMalformed)
		}
		if done, err := fn(tag, ri); done || err != nil {
			return err
		}
	}
	return nil
}

// readKeyTransRID reads the version and the recipient identifier of a
// KeyTransRecipientInfo body, leaving ri at its key encryption algorithm.
func readKeyTransRID(ri *cryptobyte.String) (rid cryptobyte.String, ridTag cbasn1.Tag, err error) {
	var version int
	if !ri.ReadASN1Integer(&version) || !ri.ReadAnyASN1Element(&rid, &ridTag) {
		return nil, 0, fmt.Errorf("%w: key transport recipient info", ErrMalformed)
	}
	return rid, ridTag, nil
}

// keyTransNames reports whether a KeyTransRecipientInfo's recipient
// identifier (issuerAndSerialNumber, or [0] subjectKeyIdentifier) names cert.
func keyTransNames(rid cryptobyte.String, ridTag cbasn1.Tag, cert *x509.Certificate) bool {
	switch ridTag {
	case cbasn1.SEQUENCE:
		return matchIssuerSerial(rid, cert)
	case cbasn1.Tag(0).ContextSpecific():
		var ski cryptobyte.String
		return rid.ReadASN1(&ski, ridTag) && len(cert.SubjectKeyId) > 0 && string(ski) == string(cert.SubjectKeyId)
	}
	return false
}

// contentKey finds the RecipientInfo for cert and recovers the content key.
func (e *envelope) contentKey(cert *x509.Certificate, key crypto.PrivateKey) ([]byte, error) {
	var cek []byte
	err := e.eachRecipientInfo(func(tag cbasn1.Tag, ri cryptobyte.String) (bool, error) {
		switch tag {
		case cbasn1.SEQUENCE: // KeyTransRecipientInfo
			rid, ridTag, err := readKeyTransRID(&ri)
			if err != nil {
				return true, err
			}
			if !keyTransNames(rid, ridTag, cert) {
				return false, nil
			}
			oid, params, err := readAlgID(&ri)
			if err != nil {
				return true, err
			}
			var ek []byte
			if !ri.ReadASN1Bytes(&ek, cbasn1.OCTET_STRING) {
				return true, fmt.Errorf("%w: encrypted key", ErrMalformed)
			}
			cek, err = decryptKeyTrans(key, oid, params, ek, e.cipher.KeySize(), rand.Reader)
			return true, err
		case tagContext1: // KeyAgreeRecipientInfo
			origAlg, origPub, ukm, alg, algParams, ek, found, err := kariMatch(ri, cert)
			if err != nil || !found {
				return err != nil, err
			}
			cek, err = decryptKeyAgree(key, origAlg, origPub, ukm, alg, algParams, ek)
			return true, err
		}
		// kekri, pwri and ori name no certificate: skip them.
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	if cek == nil {
		return nil, ErrNoRecipient
	}
	return cek, nil
}

// Decrypt opens a BER or DER ContentInfo holding EnvelopedData or
// AuthEnvelopedData with the recipient's certificate and private key (an
// *rsa.PrivateKey or other crypto.Decrypter with an RSA public key, an
// *ecdsa.PrivateKey or an *ecdh.PrivateKey). It returns ErrNoRecipient when
// the envelope is not addressed to cert.
func Decrypt(ber []byte, cert *x509.Certificate, key crypto.PrivateKey) (*Decrypted, error) {
	return decrypt(ber, cert, key, false)
}

// DecryptInPlace is Decrypt for a caller that owns ber and has no further
// use for it: the content is decrypted over its ciphertext instead of into
// a copy, so that a 25 MB envelope costs no second copy of the post.
// Content is then a slice of ber's array when ber is in normalised form
// (Normalize returns it as it is, as for what Cloister and most clients
// write) and its encrypted content is a primitive OCTET STRING; else it is
// a slice of the copy Normalize or the joining of the chunks made. After
// the call, error or not, ber's bytes are undefined (past the content too:
// AES-GCM's tag is moved next to the ciphertext) and must not be read.
func DecryptInPlace(ber []byte, cert *x509.Certificate, key crypto.PrivateKey) (*Decrypted, error) {
	return decrypt(ber, cert, key, true)
}

// decrypt is Decrypt, or DecryptInPlace when inPlace.
func decrypt(ber []byte, cert *x509.Certificate, key crypto.PrivateKey, inPlace bool) (*Decrypted, error) {
	e, err := readEnvelope(ber)
	if err != nil {
		return nil, err
	}
	cek, err := e.contentKey(cert, key)
	if err != nil {
		return nil, err
	}
	pt, err := openContent(e.cipher, cek, e.params, e.ciphertext, e.mac, e.authAttrs, inPlace)
	if err != nil {
		return nil, err
	}
	return &Decrypted{Content: pt, ContentType: e.contentType, Cipher: e.cipher}, nil
}

// readEnvelope reads a BER or DER ContentInfo holding EnvelopedData or
// AuthEnvelopedData.
func readEnvelope(ber []byte) (*envelope, error) {
	der, err := Normalize(ber)
	if err != nil {
		return nil, err
	}
	oid, body, err := readContentInfo(der)
	if err != nil {
		return nil, err
	}
	var auth bool
	switch {
	case oid.Equal(OIDEnvelopedData):
	case oid.Equal(OIDAuthEnvelopedData):
		auth = true
	default:
		return nil, fmt.Errorf("%w: content type %v is not an envelope", ErrUnsupported, oid)
	}
	e, err := parseEnvelope(body, auth)
	if err != nil {
		return nil, err
	}
	return e, nil
}
