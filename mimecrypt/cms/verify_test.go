package cms

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"testing"
	"time"
)

// selfSigned returns a certificate for key's public half.
func selfSigned(t *testing.T, key crypto.Signer) *x509.Certificate {
	t.Helper()
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "signer"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, key.Public(), key)
	if err != nil {
		t.Fatal(err)
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// attrsFor returns a DER SET OF with one messageDigest attribute.
func attrsFor(h crypto.Hash, content []byte) []byte {
	return tlv(0x31, tlv(0x30, mustMarshal(oidMessageDigestAttr), tlv(0x31, tlv(0x04, sum(h, content)))))
}

// pssParamsDER encodes RSASSA-PSS-params with explicit fields.
func pssParamsDER(hash, mgfHash []byte, salt int, trailer int) []byte {
	var f []byte
	if hash != nil {
		f = append(f, tlv(0xa0, tlv(0x30, hash))...)
	}
	if mgfHash != nil {
		f = append(f, tlv(0xa1, tlv(0x30, mustMarshal(oidMGF1), tlv(0x30, mgfHash)))...)
	}
	if salt >= 0 {
		f = append(f, tlv(0xa2, mustMarshal(salt))...)
	}
	if trailer >= 0 {
		f = append(f, tlv(0xa3, mustMarshal(trailer))...)
	}
	return tlv(0x30, f)
}

// TestVerifySignerInfo checks good Ed25519, RSASSA-PSS, PKCS #1 v1.5 and
// ECDSA signatures, and that each malformed or altered one gets its error.
func TestVerifySignerInfo(t *testing.T) {
	content := []byte("Content-Type: text/plain\r\n\r\nhello\r\n")
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	edCert, rsaCert, ecCert := selfSigned(t, edKey), selfSigned(t, rsaKey), selfSigned(t, ecKey)

	sha256OID, sha512OID := mustMarshal(oidSHA256), mustMarshal(oidSHA512)
	attrs256, attrs512 := attrsFor(crypto.SHA256, content), attrsFor(crypto.SHA512, content)
	edSig := ed25519.Sign(edKey, attrs512)
	edSig256 := ed25519.Sign(edKey, attrs256)
	edPure := ed25519.Sign(edKey, content)
	pssSig, _ := rsa.SignPSS(rand.Reader, rsaKey, crypto.SHA256, sum(crypto.SHA256, attrs256), &rsa.PSSOptions{SaltLength: 32})
	pkcs1Sig, _ := rsa.SignPKCS1v15(rand.Reader, rsaKey, crypto.SHA256, sum(crypto.SHA256, attrs256))
	ecSig, _ := ecdsa.SignASN1(rand.Reader, ecKey, sum(crypto.SHA256, attrs256))
	goodPSS := pssParamsDER(sha256OID, sha256OID, 32, 1)

	type tc struct {
		name string
		cert *x509.Certificate
		si   SignerInfo
		body []byte
		want error // nil: verifies
	}
	ed := func(name string, si SignerInfo, want error) tc {
		if si.DigestAlgorithm == nil {
			si.DigestAlgorithm = oidSHA512
		}
		si.SignatureAlgorithm = oidEd25519
		return tc{name, edCert, si, content, want}
	}
	pss := func(name string, params []byte, want error) tc {
		return tc{name, rsaCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidRSASSAPSS, SignatureParams: params,
			SignedAttrs: attrs256, Signature: pssSig}, content, want}
	}
	truncated := edSig[:40]
	for _, c := range []tc{
		ed("Ed25519 with signed attributes", SignerInfo{SignedAttrs: attrs512, Signature: edSig}, nil),
		ed("Ed25519 without signed attributes", SignerInfo{Signature: edPure}, nil),
		ed("Ed25519 content altered", SignerInfo{Signature: edPure}, ErrBadSignature),
		ed("Ed25519 truncated signature", SignerInfo{SignedAttrs: attrs512, Signature: truncated}, ErrBadSignature),
		ed("Ed25519 with parameters", SignerInfo{SignedAttrs: attrs512, Signature: edSig, SignatureParams: []byte{5, 0}}, ErrMalformed),
		ed("Ed25519 signed attributes with SHA-256", SignerInfo{DigestAlgorithm: oidSHA256, SignedAttrs: attrs256, Signature: edSig256}, ErrMalformed),
		ed("Ed25519 digest mismatch", SignerInfo{SignedAttrs: attrsFor(crypto.SHA512, []byte("other")), Signature: edSig}, ErrDigestMismatch),
		{"Ed25519 signature with an RSA certificate", rsaCert, SignerInfo{DigestAlgorithm: oidSHA512, SignatureAlgorithm: oidEd25519,
			SignedAttrs: attrs512, Signature: edSig}, content, ErrMalformed},
		pss("RSASSA-PSS", goodPSS, nil),
		pss("RSASSA-PSS without trailer and salt fields", pssParamsDER(sha256OID, sha256OID, -1, -1), ErrBadSignature), // salt 20 declared
		pss("RSASSA-PSS absent parameters", nil, ErrMalformed),
		pss("RSASSA-PSS default (SHA-1) hash", pssParamsDER(nil, nil, 32, 1), ErrMalformed),
		pss("RSASSA-PSS hash differs from digest", pssParamsDER(sha512OID, sha512OID, 32, 1), ErrMalformed),
		pss("RSASSA-PSS MGF1 hash differs", pssParamsDER(sha256OID, sha512OID, 32, 1), ErrUnsupported),
		pss("RSASSA-PSS trailer 2", pssParamsDER(sha256OID, sha256OID, 32, 2), ErrMalformed),
		pss("RSASSA-PSS salt too long", pssParamsDER(sha256OID, sha256OID, 1000, 1), ErrMalformed),
		pss("RSASSA-PSS negative salt", tlv(0x30, tlv(0xa0, tlv(0x30, sha256OID)), tlv(0xa2, mustMarshal(-1))), ErrMalformed),
		pss("RSASSA-PSS garbage parameters", []byte{0x30, 0x03, 0xa0, 0x05, 0x00}, ErrMalformed),
		pss("RSASSA-PSS wrong salt length", pssParamsDER(sha256OID, sha256OID, 20, 1), ErrBadSignature),
		{"RSASSA-PSS with an EC certificate", ecCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidRSASSAPSS,
			SignatureParams: goodPSS, SignedAttrs: attrs256, Signature: pssSig}, content, ErrMalformed},
		{"RSA PKCS #1 v1.5", rsaCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidRSAEncryption,
			SignedAttrs: attrs256, Signature: pkcs1Sig}, content, nil},
		{"RSA PKCS #1 v1.5 read as PSS", rsaCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidRSASSAPSS,
			SignatureParams: goodPSS, SignedAttrs: attrs256, Signature: pkcs1Sig}, content, ErrBadSignature},
		{"sha512WithRSA over a SHA-256 digest", rsaCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidSHA512WithRSA,
			SignedAttrs: attrs256, Signature: pkcs1Sig}, content, ErrMalformed},
		{"ECDSA", ecCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidECDSASHA256,
			SignedAttrs: attrs256, Signature: ecSig}, content, nil},
		{"ECDSA signature with an Ed25519 certificate", edCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidECDSASHA256,
			SignedAttrs: attrs256, Signature: ecSig}, content, ErrMalformed},
		{"SHA-1 digest", rsaCert, SignerInfo{DigestAlgorithm: oidSHA1, SignatureAlgorithm: oidRSAEncryption,
			SignedAttrs: attrs256, Signature: pkcs1Sig}, content, ErrUnsupported},
		{"unknown signature algorithm", rsaCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidAES128CBC,
			SignedAttrs: attrs256, Signature: pkcs1Sig}, content, ErrUnsupported},
		{"no messageDigest attribute", rsaCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidRSAEncryption,
			SignedAttrs: tlv(0x31, tlv(0x30, mustMarshal(oidContentTypeAttr), tlv(0x31, mustMarshal(OIDData)))), Signature: pkcs1Sig}, content, ErrMalformed},
		{"truncated signed attributes", rsaCert, SignerInfo{DigestAlgorithm: oidSHA256, SignatureAlgorithm: oidRSAEncryption,
			SignedAttrs: attrs256[:len(attrs256)-3], Signature: pkcs1Sig}, content, ErrMalformed},
	} {
		t.Run(c.name, func(t *testing.T) {
			body := c.body
			if c.name == "Ed25519 content altered" {
				body = append([]byte("X"), content...)
			}
			err := VerifySignerInfo(c.cert, c.si, body)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("got %v, want %v", err, c.want)
			}
			t.Logf("%v", err)
		})
	}
}
