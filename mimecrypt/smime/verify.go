package smime

import (
	"bytes"
	"crypto/sha256"
	"crypto/x509"
	"encoding/asn1"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"github.com/smallstep/pkcs7"

	"cloister/mimecrypt"
	"cloister/mimecrypt/cms"
)

// signature is the outcome of checking one signature layer.
type signature struct {
	verdict mimecrypt.Verdict
	reason  string
	cert    *x509.Certificate // the signer's certificate, when the signature maths held
	content []byte            // the signed content (opaque signatures)
	from    string            // the From address, lower case, when the verdict is good
	id      string            // replay identity (signatureID), when the signature maths held
	signed  time.Time         // the signingTime attribute (zero without one)
}

func bad(format string, args ...any) *signature {
	return &signature{verdict: mimecrypt.VerdictBad, reason: fmt.Sprintf(format, args...)}
}

// digestAllowed lists the digest algorithms accepted in signatures. SHA-1 and
// MD5 are refused (RFC 8551 section 2.1).
var digestAllowed = map[string]string{
	pkcs7.OIDDigestAlgorithmSHA256.String(): "SHA-256",
	pkcs7.OIDDigestAlgorithmSHA384.String(): "SHA-384",
	pkcs7.OIDDigestAlgorithmSHA512.String(): "SHA-512",
	pkcs7.OIDDigestAlgorithmSHA224.String(): "SHA-224",
}

var oidSigningTime = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}

// verify checks a SignedData. For a multipart/signed, detached holds the
// canonical bytes of the signed part; for opaque signed-data it is nil and the
// content comes from the SignedData. hdr is the outer message's header, for
// the From and Date fields.
func (o *OpenOptions) verify(sigBER, detached []byte, from []string, date string) *signature {
	der, err := cms.Normalize(sigBER)
	if err != nil {
		if errors.Is(err, cms.ErrTooLarge) {
			return bad("the signature exceeds a size or nesting limit")
		}
		return bad("the signature is not valid CMS data")
	}
	ct, err := cms.ContentType(der)
	if err != nil || !ct.Equal(cms.OIDSignedData) {
		return bad("the signature part holds no signed data")
	}
	p7, err := pkcs7.Parse(der)
	if err != nil {
		return bad("the signature cannot be parsed")
	}
	if len(p7.Signers) == 0 {
		return bad("the signature has no signer")
	}
	if detached != nil {
		if len(p7.Content) > 0 && !bytes.Equal(p7.Content, detached) {
			return bad("the signature carries content different from the signed part")
		}
		p7.Content = detached
	} else if len(p7.Content) == 0 {
		return bad("the signed message has no content")
	}
	for _, si := range p7.Signers {
		if _, ok := digestAllowed[si.DigestAlgorithm.Algorithm.String()]; !ok {
			if si.DigestAlgorithm.Algorithm.Equal(pkcs7.OIDDigestAlgorithmSHA1) {
				return bad("the signature uses SHA-1, which is refused; please sign with SHA-256")
			}
			return bad("the signature uses a refused digest algorithm (%v)", si.DigestAlgorithm.Algorithm)
		}
	}
	for i := range p7.Signers {
		if reason := verifySigner(p7, i); reason != "" {
			return bad("%s", reason)
		}
	}
	si := p7.Signers[0]
	var leaf *x509.Certificate
	for _, c := range p7.Certificates {
		if c.SerialNumber.Cmp(si.IssuerAndSerialNumber.SerialNumber) == 0 &&
			bytes.Equal(c.RawIssuer, si.IssuerAndSerialNumber.IssuerName.FullBytes) {
			leaf = c
			break
		}
	}
	if leaf == nil {
		return bad("the signer's certificate is missing")
	}
	sig := &signature{verdict: mimecrypt.VerdictGood, cert: leaf, content: p7.Content, id: signatureID(leaf, p7), signed: signingTime(p7)}
	if v, reason := o.checkChain(leaf, p7.Certificates); v != mimecrypt.VerdictGood {
		sig.verdict, sig.reason = v, reason
		return sig
	}
	if date != "" {
		var st time.Time
		if err := p7.UnmarshalSignedAttribute(oidSigningTime, &st); err == nil {
			if d, err := mail.ParseDate(date); err == nil && (d.Sub(st) > dateSkew || st.Sub(d) > dateSkew) {
				sig.verdict = mimecrypt.VerdictBad
				sig.reason = fmt.Sprintf("the Date field (%s) and the signing time (%s) differ by more than %v",
					d.UTC().Format(time.RFC3339), st.UTC().Format(time.RFC3339), dateSkew)
				return sig
			}
		}
	}
	if reason := signerMatches(leaf, from); reason != "" {
		sig.verdict, sig.reason = mimecrypt.VerdictSignerMismatch, reason
		return sig
	}
	if reason := o.onFile(leaf, from[0]); reason != "" {
		sig.verdict, sig.reason = mimecrypt.VerdictSignerMismatch, reason
		return sig
	}
	if reason := protectedFrom(p7.Content, from[0]); reason != "" {
		sig.verdict, sig.reason = mimecrypt.VerdictSignerMismatch, reason
		return sig
	}
	sig.from = strings.ToLower(from[0])
	return sig
}

// protectedFrom returns why a From field inside the signed content
// (protected header fields, RFC 9788, which clients show instead of the
// outer one) does not name the From address, or "" when it does or when
// the content has none: else a reader would take the message for another
// sender's, authenticated by the signer's certificate.
func protectedFrom(content []byte, from string) string {
	e, err := parseContent(content)
	if err != nil || !e.Fields.Has("From") {
		return ""
	}
	if inner := fromAddresses(e); len(inner) != 1 || !strings.EqualFold(inner[0], from) {
		return "the From field inside the signature does not name the sender address " + from
	}
	return ""
}

// onFile returns why the certificate is not bound to the From address by
// the keyring, or "" when it is the address's certificate on file, or the
// address has none on file (first contact).
func (o *OpenOptions) onFile(cert *x509.Certificate, from string) string {
	if o.Bindings == nil {
		return ""
	}
	certs := o.Bindings.SigningCerts(strings.ToLower(from), o.now())
	if len(certs) == 0 {
		return ""
	}
	fpr := fingerprint(cert)
	for _, c := range certs {
		if strings.EqualFold(c, fpr) {
			return ""
		}
	}
	return fmt.Sprintf("the signer's certificate is not the one on file for %s; sign with that certificate, or replace it with key change signed by it", from)
}

// checkChain validates the signer's certificate at the current time to the
// trust anchors for email protection, and against the CRLs.
func (o *OpenOptions) checkChain(leaf *x509.Certificate, carried []*x509.Certificate) (mimecrypt.Verdict, string) {
	if leaf.KeyUsage != 0 && leaf.KeyUsage&(x509.KeyUsageDigitalSignature|x509.KeyUsageContentCommitment) == 0 {
		return mimecrypt.VerdictBad, "the signer's certificate does not allow signing"
	}
	inter := x509.NewCertPool()
	if o.Intermediates != nil {
		inter = o.Intermediates.Clone()
	}
	for _, c := range carried {
		if c != leaf {
			inter.AddCert(c)
		}
	}
	roots := o.Roots
	if roots == nil {
		roots = x509.NewCertPool()
	}
	vo := x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: o.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}}
	chains, err := leaf.Verify(vo)
	if err != nil {
		var inv x509.CertificateInvalidError
		if errors.As(err, &inv) && inv.Reason == x509.Expired {
			// Expired, or from an unknown CA as well? Check at a time the
			// certificate was valid to tell the two apart.
			vo.CurrentTime = leaf.NotAfter.Add(-time.Second)
			if _, err2 := leaf.Verify(vo); err2 != nil {
				return chainFailure(err2)
			}
			if o.now().Before(leaf.NotBefore) {
				return mimecrypt.VerdictExpired, fmt.Sprintf("the signer's certificate is not valid before %s",
					leaf.NotBefore.UTC().Format(time.DateOnly))
			}
			return mimecrypt.VerdictExpired, fmt.Sprintf("the signer's certificate (or its issuer's) expired on or before %s",
				leaf.NotAfter.UTC().Format(time.DateOnly))
		}
		return chainFailure(err)
	}
	for _, chain := range chains {
		for i := 0; i+1 < len(chain); i++ {
			if o.revoked(chain[i], chain[i+1]) {
				return mimecrypt.VerdictRevoked, "the signer's certificate (or its issuer's) has been revoked"
			}
		}
	}
	return mimecrypt.VerdictGood, ""
}

func chainFailure(err error) (mimecrypt.Verdict, string) {
	var ua x509.UnknownAuthorityError
	var inv x509.CertificateInvalidError
	switch {
	case errors.As(err, &ua):
		return mimecrypt.VerdictUnknownKey, "the signer's certificate is not issued by a certificate authority this list trusts"
	case errors.As(err, &inv) && inv.Reason == x509.IncompatibleUsage:
		return mimecrypt.VerdictBad, "the signer's certificate is not for email protection"
	case errors.As(err, &inv) && inv.Reason == x509.Expired:
		return mimecrypt.VerdictExpired, "a certificate of the signer's chain has expired"
	}
	return mimecrypt.VerdictBad, "the signer's certificate chain is not valid"
}

// revoked reports whether a CRL signed by issuer lists cert.
func (o *OpenOptions) revoked(cert, issuer *x509.Certificate) bool {
	for _, crl := range o.CRLs {
		if !bytes.Equal(crl.RawIssuer, cert.RawIssuer) || crl.CheckSignatureFrom(issuer) != nil {
			continue
		}
		for _, e := range crl.RevokedCertificateEntries {
			if e.SerialNumber != nil && e.SerialNumber.Cmp(cert.SerialNumber) == 0 {
				return true
			}
		}
	}
	return false
}

// signerMatches returns why the certificate is not bound to the From
// address, or "" when it is.
func signerMatches(cert *x509.Certificate, from []string) string {
	addrs := Addresses(cert)
	if len(addrs) == 0 {
		return "the signer's certificate carries no email address"
	}
	if len(from) != 1 {
		return "the message does not have exactly one From address"
	}
	for _, a := range addrs {
		if strings.EqualFold(a, from[0]) {
			return ""
		}
	}
	return fmt.Sprintf("the signer's certificate is issued to %s, not to the From address %s",
		strings.Join(addrs, ", "), from[0])
}

// fingerprint returns the SHA-256 fingerprint of a certificate, upper-case hex.
func fingerprint(cert *x509.Certificate) string {
	sum := sha256.Sum256(cert.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// verifySigner checks one SignerInfo with the project's cms package, which,
// unlike the pkcs7 library's own check, reads RSASSA-PSS (RFC 4056) and
// Ed25519 (RFC 8419) signatures as well as RSA PKCS #1 v1.5 and ECDSA. It
// returns "" when the signature holds, else a reason for the sender.
func verifySigner(p7 *pkcs7.PKCS7, i int) string {
	si := p7.Signers[i]
	var cert *x509.Certificate
	for _, c := range p7.Certificates {
		if c.SerialNumber.Cmp(si.IssuerAndSerialNumber.SerialNumber) == 0 &&
			bytes.Equal(c.RawIssuer, si.IssuerAndSerialNumber.IssuerName.FullBytes) {
			cert = c
			break
		}
	}
	if cert == nil {
		return "the signer's certificate is missing"
	}
	in := cms.SignerInfo{
		DigestAlgorithm:    si.DigestAlgorithm.Algorithm,
		SignatureAlgorithm: si.DigestEncryptionAlgorithm.Algorithm,
		SignatureParams:    si.DigestEncryptionAlgorithm.Parameters.FullBytes,
		Signature:          si.EncryptedDigest,
	}
	if len(si.AuthenticatedAttributes) > 0 {
		attrs := make([]signedAttribute, 0, len(si.AuthenticatedAttributes))
		for _, a := range si.AuthenticatedAttributes {
			attrs = append(attrs, signedAttribute{Type: a.Type, Value: a.Value})
		}
		der, err := signedAttributesDER(attrs)
		if err != nil {
			return "the signed attributes cannot be encoded"
		}
		in.SignedAttrs = der
		var st time.Time
		for _, a := range si.AuthenticatedAttributes {
			if a.Type.Equal(oidSigningTime) {
				if _, err := asn1.Unmarshal(a.Value.Bytes, &st); err == nil &&
					(st.After(cert.NotAfter) || st.Before(cert.NotBefore)) {
					return "the signing time lies outside the certificate's validity"
				}
			}
		}
	}
	err := cms.VerifySignerInfo(cert, in, p7.Content)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, cms.ErrDigestMismatch):
		return "the message was altered after it was signed"
	case errors.Is(err, cms.ErrBadSignature):
		return "the signature does not verify"
	case errors.Is(err, cms.ErrUnsupported):
		return "the signature uses an algorithm this list does not support: " + strings.TrimPrefix(err.Error(), "cms: unsupported algorithm or structure: ")
	}
	return "the signature is malformed: " + strings.TrimPrefix(err.Error(), "cms: malformed input: ")
}
