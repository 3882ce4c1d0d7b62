package keyring

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	bolt "go.etcd.io/bbolt"
	pkcs12 "software.sslmate.com/src/go-pkcs12"

	"cloister/mimecrypt/cms"
)

// SMIMERSABits is the size of the RSA key GenerateSMIME makes.
var SMIMERSABits = 3072

// smimeValidity is how long a self-signed list certificate is valid.
const smimeValidity = 2 * 365 * 24 * time.Hour

// smimeSecret is a list's unlocked S/MIME key with its certificates.
type smimeSecret struct {
	cert  *x509.Certificate
	key   crypto.Signer
	chain []*x509.Certificate
}

// ImportSMIME stores a list's certificate and private key from a PKCS#12
// bundle (opened with password) or from PEM (certificates and an
// unencrypted PRIVATE KEY, RSA PRIVATE KEY or EC PRIVATE KEY block). PEM
// holding only a certificate replaces the certificate of the list's stored
// key when the public keys match: that is how a CA-signed certificate for a
// CSR comes in. It returns the certificate's fingerprint.
func (k *Keyring) ImportSMIME(list string, data []byte, password string) (string, error) {
	list, err := normAddress(list)
	if err != nil {
		return "", err
	}
	if len(data) > maxKeyInput {
		return "", fmt.Errorf("file of %d bytes is larger than %d", len(data), maxKeyInput)
	}
	var key any
	var cert *x509.Certificate
	var chain []*x509.Certificate
	if bytes.Contains(data, []byte("-----BEGIN")) {
		key, cert, chain, err = parsePEMPair(data)
	} else {
		key, cert, chain, err = pkcs12.DecodeChain(data, password)
		if err != nil {
			// NSS and others write BER (indefinite lengths); go-pkcs12 reads DER.
			if der, nerr := cms.Normalize(data); nerr == nil {
				key, cert, chain, err = pkcs12.DecodeChain(der, password)
			}
		}
		if err != nil {
			err = fmt.Errorf("read PKCS#12 (a bundle NSS or Thunderbird wrote may need re-exporting with openssl pkcs12): %w", err)
		}
	}
	if err != nil {
		return "", err
	}
	if key == nil {
		return k.replaceListCert(list, cert, chain)
	}
	signer, ok := key.(crypto.Signer)
	if !ok {
		// An X25519 key (RFC 8410) only agrees keys: the list signs
		// every copy with its one key.
		return "", fmt.Errorf("import: a %T key cannot sign; a list's S/MIME key signs its copies, so it must be RSA or EC (P-256, P-384, P-521)", key)
	}
	if !publicKeysEqual(signer.Public(), cert.PublicKey) {
		return "", errors.New("import: the private key does not belong to the certificate")
	}
	if err := k.checkListFree(KindX509, list); err != nil {
		return "", err
	}
	return k.storeListSMIME(list, cert, signer, chain)
}

// parsePEMPair reads certificates and at most one private key from PEM.
// The leaf is the certificate matching the key (the first one without a key).
func parsePEMPair(data []byte) (any, *x509.Certificate, []*x509.Certificate, error) {
	var key any
	var certs []*x509.Certificate
	for rest := data; ; {
		var blk *pem.Block
		blk, rest = pem.Decode(rest)
		if blk == nil {
			break
		}
		var err error
		switch blk.Type {
		case "CERTIFICATE":
			var c *x509.Certificate
			if c, err = x509.ParseCertificate(blk.Bytes); err == nil {
				certs = append(certs, c)
			}
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(blk.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(blk.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(blk.Bytes)
		case "ENCRYPTED PRIVATE KEY":
			err = errors.New("encrypted PEM keys are not read: decrypt it with openssl pkey, or import a PKCS#12 bundle")
		}
		if err != nil {
			return nil, nil, nil, fmt.Errorf("read PEM %s: %w", blk.Type, err)
		}
	}
	if len(certs) == 0 {
		return nil, nil, nil, errors.New("read PEM: no certificate")
	}
	leaf := 0
	if s, ok := key.(crypto.Signer); ok {
		for i, c := range certs {
			if publicKeysEqual(s.Public(), c.PublicKey) {
				leaf = i
				break
			}
		}
	}
	chain := append(append([]*x509.Certificate{}, certs[:leaf]...), certs[leaf+1:]...)
	return key, certs[leaf], chain, nil
}

// publicKeysEqual compares two public keys.
func publicKeysEqual(a, b crypto.PublicKey) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	e, ok := a.(equaler)
	return ok && e.Equal(b)
}

// storeListSMIME seals key and stores it with the certificates as list's.
func (k *Keyring) storeListSMIME(list string, cert *x509.Certificate, key crypto.Signer, chain []*x509.Certificate) (string, error) {
	if len(k.passphrase) == 0 {
		return "", ErrNoPassphrase
	}
	switch key.(type) {
	case *rsa.PrivateKey, *ecdsa.PrivateKey, ed25519.PrivateKey:
	default:
		return "", fmt.Errorf("unsupported private key type %T", key)
	}
	p8, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return "", fmt.Errorf("encode private key: %w", err)
	}
	sealed, err := sealSecret(k.passphrase, p8, secretAD(KindX509, list))
	if err != nil {
		return "", err
	}
	rec := &listRecord{Kind: KindX509, List: list, Fingerprint: CertFingerprint(cert), Created: cert.NotBefore,
		Expires: cert.NotAfter, Public: cert.Raw, Secret: sealed}
	for _, c := range chain {
		rec.Chain = append(rec.Chain, c.Raw)
	}
	err = k.update(func(tx *bolt.Tx) error { return putJSON(tx, bucketList, listKey(KindX509, list), rec) })
	if err != nil {
		return "", fmt.Errorf("store certificate of %s: %w", list, err)
	}
	return rec.Fingerprint, nil
}

// replaceListCert puts a new certificate (and chain) in front of the
// list's stored S/MIME key, which must match it.
func (k *Keyring) replaceListCert(list string, cert *x509.Certificate, chain []*x509.Certificate) (string, error) {
	_, key, _, err := k.ListKeySMIME(list)
	if err != nil {
		return "", fmt.Errorf("import a certificate without its key: %w", err)
	}
	if !publicKeysEqual(key.Public(), cert.PublicKey) {
		return "", fmt.Errorf("the certificate is not for the stored key of %s", list)
	}
	fpr := CertFingerprint(cert)
	err = k.update(func(tx *bolt.Tx) error {
		var rec listRecord
		if _, err := getJSON(tx, bucketList, listKey(KindX509, list), &rec); err != nil {
			return err
		}
		rec.Fingerprint, rec.Public, rec.Created, rec.Expires, rec.Chain = fpr, cert.Raw, cert.NotBefore, cert.NotAfter, nil
		for _, c := range chain {
			rec.Chain = append(rec.Chain, c.Raw)
		}
		return putJSON(tx, bucketList, listKey(KindX509, list), &rec)
	})
	if err != nil {
		return "", fmt.Errorf("store certificate of %s: %w", list, err)
	}
	return fpr, nil
}

// GenerateSMIME makes an RSA key for list (SMIMERSABits) with a self-signed
// certificate for email protection (for testing, or until a CA signs the
// request CSR makes), and stores it. It returns the fingerprint.
func (k *Keyring) GenerateSMIME(list string) (string, error) {
	list, err := normAddress(list)
	if err != nil {
		return "", err
	}
	if err := k.checkListFree(KindX509, list); err != nil {
		return "", err
	}
	key, err := rsa.GenerateKey(rand.Reader, SMIMERSABits)
	if err != nil {
		return "", fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return "", err
	}
	now := k.now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: list},
		EmailAddresses:        []string{list},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(smimeValidity),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection},
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return "", fmt.Errorf("self-sign certificate: %w", err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return "", err
	}
	return k.storeListSMIME(list, cert, key, nil)
}

// CSR returns a PEM certificate signing request for list's stored S/MIME
// key, naming the list address as subject and rfc822Name, for a real CA.
func (k *Keyring) CSR(list string) ([]byte, error) {
	_, key, _, err := k.ListKeySMIME(list)
	if err != nil {
		return nil, err
	}
	list, _ = normAddress(list)
	der, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
		Subject: pkix.Name{CommonName: list}, EmailAddresses: []string{list}}, key)
	if err != nil {
		return nil, fmt.Errorf("certificate request for %s: %w", list, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der}), nil
}

// ListKeySMIME returns list's certificate, unlocked private key and chain,
// unlocked once per process (see ListKeyPGP). Values are shared.
func (k *Keyring) ListKeySMIME(list string) (*x509.Certificate, crypto.Signer, []*x509.Certificate, error) {
	v, err := k.unlock(KindX509, list, func(rec *listRecord, secret []byte) (any, error) {
		key, err := x509.ParsePKCS8PrivateKey(secret)
		if err != nil {
			return nil, fmt.Errorf("stored key of %s: %w", list, err)
		}
		s := &smimeSecret{}
		s.key, _ = key.(crypto.Signer)
		if s.cert, err = x509.ParseCertificate(rec.Public); err != nil {
			return nil, fmt.Errorf("stored certificate of %s: %w", list, err)
		}
		for _, der := range rec.Chain {
			c, err := x509.ParseCertificate(der)
			if err != nil {
				return nil, fmt.Errorf("stored chain of %s: %w", list, err)
			}
			s.chain = append(s.chain, c)
		}
		return s, nil
	})
	if err != nil {
		return nil, nil, nil, err
	}
	s := v.(*smimeSecret)
	return s.cert, s.key, s.chain, nil
}

// ListSMIME is ListKeySMIME under the name the runners' site.Keys uses.
func (k *Keyring) ListSMIME(list string) (*x509.Certificate, crypto.Signer, []*x509.Certificate, error) {
	return k.ListKeySMIME(list)
}

// ExportSMIME returns list's certificate followed by its chain, PEM.
func (k *Keyring) ExportSMIME(list string) ([]byte, error) {
	rec, err := k.listRecord(KindX509, list)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	for _, der := range append([][]byte{rec.Public}, rec.Chain...) {
		pem.Encode(&b, &pem.Block{Type: "CERTIFICATE", Bytes: der})
	}
	return b.Bytes(), nil
}
