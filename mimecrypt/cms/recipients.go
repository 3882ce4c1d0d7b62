package cms

import (
	"crypto/x509"
	"fmt"
	"strings"

	"golang.org/x/crypto/cryptobyte"
	cbasn1 "golang.org/x/crypto/cryptobyte/asn1"
)

// RecipientsNamed reads a BER or DER ContentInfo holding EnvelopedData or
// AuthEnvelopedData and returns, for each of its RecipientInfos in order,
// the index in certs of the certificate it names, or -1 when it names none
// of them (or is of a kind that names no certificate: KEK, password, other).
// A KeyAgreeRecipientInfo counts once per recipient key it holds. It lets a
// sender check, without any private key, to whom an envelope is addressed,
// and that it holds nothing in the clear beside the encryption: an envelope
// with originator info, unprotected, authenticated or unauthenticated
// attributes, or user keying material (none of which Envelope writes, and
// any of which could carry text) is an error.
func RecipientsNamed(ber []byte, certs []*x509.Certificate) ([]int, error) {
	e, err := readEnvelope(ber)
	if err != nil {
		return nil, err
	}
	if len(e.inClear) > 0 {
		return nil, fmt.Errorf("%w: an envelope with %s in the clear", ErrUnsupported, strings.Join(e.inClear, ", "))
	}
	named := func(match func(*x509.Certificate) bool) int {
		for i, c := range certs {
			if match(c) {
				return i
			}
		}
		return -1
	}
	var out []int
	err = e.eachRecipientInfo(func(tag cbasn1.Tag, ri cryptobyte.String) (bool, error) {
		switch tag {
		case cbasn1.SEQUENCE: // KeyTransRecipientInfo
			rid, ridTag, err := readKeyTransRID(&ri)
			if err != nil {
				return true, err
			}
			out = append(out, named(func(c *x509.Certificate) bool { return keyTransNames(rid, ridTag, c) }))
		case tagContext1: // KeyAgreeRecipientInfo: one entry per recipient key
			idx, err := kariRecipients(ri, named)
			if err != nil {
				return true, err
			}
			out = append(out, idx...)
		default:
			out = append(out, -1)
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// kariRecipients returns, for each recipient key of a KeyAgreeRecipientInfo
// body, what named says of the certificate it names.
func kariRecipients(body cryptobyte.String, named func(func(*x509.Certificate) bool) int) ([]int, error) {
	bad := fmt.Errorf("%w: key agreement recipient info", ErrMalformed)
	var version int
	var orig, ukm cryptobyte.String
	var hasUKM bool
	if !body.ReadASN1Integer(&version) || !body.ReadASN1(&orig, cbasn1.Tag(0).Constructed().ContextSpecific()) ||
		!body.ReadOptionalASN1(&ukm, &hasUKM, cbasn1.Tag(1).Constructed().ContextSpecific()) {
		return nil, bad
	}
	if hasUKM {
		return nil, fmt.Errorf("%w: key agreement with user keying material in the clear", ErrUnsupported)
	}
	if _, _, err := readAlgID(&body); err != nil {
		return nil, err
	}
	var reks cryptobyte.String
	if !body.ReadASN1(&reks, cbasn1.SEQUENCE) {
		return nil, bad
	}
	var out []int
	for n := 0; !reks.Empty(); n++ {
		if n >= MaxRecipients {
			return nil, fmt.Errorf("%w: more than %d recipient keys", ErrTooLarge, MaxRecipients)
		}
		var rek, rid cryptobyte.String
		var tag cbasn1.Tag
		if !reks.ReadASN1(&rek, cbasn1.SEQUENCE) || !rek.ReadAnyASN1Element(&rid, &tag) {
			return nil, bad
		}
		switch tag {
		case cbasn1.SEQUENCE:
			out = append(out, named(func(c *x509.Certificate) bool { return matchIssuerSerial(rid, c) }))
		case cbasn1.Tag(0).Constructed().ContextSpecific(): // rKeyId
			var rk, ski cryptobyte.String
			ok := rid.ReadASN1(&rk, tag) && rk.ReadASN1(&ski, cbasn1.OCTET_STRING)
			out = append(out, named(func(c *x509.Certificate) bool {
				return ok && len(c.SubjectKeyId) > 0 && string(ski) == string(c.SubjectKeyId)
			}))
		default:
			out = append(out, -1)
		}
	}
	return out, nil
}
