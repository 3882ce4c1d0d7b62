package smime

import (
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"cloister/mimecrypt/cms"
)

var oidEmailAddress = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 1}

// Addresses returns the email addresses a certificate is issued to: its
// subjectAltName rfc822Names and its subject emailAddress attributes, lower
// case and without duplicates.
func Addresses(cert *x509.Certificate) []string {
	var out []string
	add := func(a string) {
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && strings.Contains(a, "@") && !slices.Contains(out, a) {
			out = append(out, a)
		}
	}
	for _, a := range cert.EmailAddresses {
		add(a)
	}
	for _, atv := range cert.Subject.Names {
		if atv.Type.Equal(oidEmailAddress) {
			if s, ok := atv.Value.(string); ok {
				add(s)
			}
		}
	}
	return out
}

// Errors returned by CanEncryptTo.
var (
	// ErrKeyUsage means the certificate's key usage forbids encryption.
	ErrKeyUsage = errors.New("certificate key usage does not allow encryption")
	// ErrCertExpired means the certificate is expired or not yet valid.
	ErrCertExpired = errors.New("certificate is not valid now")
	// ErrKeyType means the certificate's key cannot receive S/MIME mail.
	ErrKeyType = errors.New("certificate key type cannot be encrypted to")
)

// CanEncryptTo reports why mail cannot be encrypted to cert, or nil if it can:
// an RSA key with keyEncipherment, or an EC key (P-256, P-384, P-521) with
// keyAgreement, or an X25519 key (RFC 8410) with keyAgreement, when the
// certificate states key usages; an extended key usage,
// if present, that allows email protection; and validity now.
func CanEncryptTo(cert *x509.Certificate) error {
	return canEncryptAt(cert, time.Now())
}

func canEncryptAt(cert *x509.Certificate, now time.Time) error {
	pub, err := cms.PublicKeyOf(cert)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrKeyType, err)
	}
	switch k := pub.(type) {
	case *rsa.PublicKey:
		if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageKeyEncipherment == 0 {
			return fmt.Errorf("%w: RSA key without keyEncipherment", ErrKeyUsage)
		}
	case *ecdsa.PublicKey:
		switch k.Curve {
		case elliptic.P256(), elliptic.P384(), elliptic.P521():
		default:
			return fmt.Errorf("%w: curve %s", ErrKeyType, k.Curve.Params().Name)
		}
		if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageKeyAgreement == 0 {
			return fmt.Errorf("%w: EC key without keyAgreement", ErrKeyUsage)
		}
	case *ecdh.PublicKey: // X25519 (RFC 8410)
		if k.Curve() != ecdh.X25519() {
			return fmt.Errorf("%w: curve %v", ErrKeyType, k.Curve())
		}
		if cert.KeyUsage != 0 && cert.KeyUsage&x509.KeyUsageKeyAgreement == 0 {
			return fmt.Errorf("%w: X25519 key without keyAgreement", ErrKeyUsage)
		}
	default:
		return fmt.Errorf("%w: %T", ErrKeyType, pub)
	}
	if len(cert.ExtKeyUsage) > 0 && !slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageEmailProtection) &&
		!slices.Contains(cert.ExtKeyUsage, x509.ExtKeyUsageAny) {
		return fmt.Errorf("%w: extended key usage excludes email protection", ErrKeyUsage)
	}
	if now.Before(cert.NotBefore) || now.After(cert.NotAfter) {
		return fmt.Errorf("%w: valid %s to %s", ErrCertExpired,
			cert.NotBefore.UTC().Format(time.DateOnly), cert.NotAfter.UTC().Format(time.DateOnly))
	}
	return nil
}
