package keyring

import (
	"bytes"
	"crypto/x509"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"cloister/mimecrypt/smime"
)

// This file holds what the key commands by mail do with subscribers'
// S/MIME certificates: check one before a challenge is sent to it, set one
// in place of the others, and withdraw one at its holder's signed request.

// CheckCert reports why der cannot be set for address by a subscriber's
// own request, nil if it can: it must carry the address, allow encryption,
// chain to the trust anchors for email protection, not be revoked by a CRL,
// and not have been withdrawn. It returns the certificate's fingerprint.
func (k *Keyring) CheckCert(address string, der []byte) (string, error) {
	_, c, err := k.checkTrusted(address, der, nil)
	if err != nil {
		return "", err
	}
	fpr := CertFingerprint(c)
	if k.CertWithdrawn(fpr) {
		return fpr, fmt.Errorf("certificate %s was withdrawn by its holder: %w", fpr, ErrRevoked)
	}
	return fpr, nil
}

// SetCert binds the certificate der to address for signing and encryption
// and unbinds the address's other certificates: it replaces them. With
// trusted, the certificate must pass CheckCert (a subscriber's request);
// without, it must only carry the address (an owner's word, as AddCert).
// It returns the fingerprint.
func (k *Keyring) SetCert(address string, der []byte, trusted bool) (string, error) {
	var addr string
	var c *x509.Certificate
	var err error
	if trusted {
		addr, c, err = k.checkTrusted(address, der, nil)
	} else {
		if addr, err = normAddress(address); err == nil {
			c, err = x509.ParseCertificate(der)
		}
	}
	if err != nil {
		return "", fmt.Errorf("set certificate of %s: %w", address, err)
	}
	fpr, err := k.storeCert(addr, c, UseBoth, false)
	if err != nil {
		return "", err
	}
	err = k.update(func(tx *bolt.Tx) error {
		var others []string
		prefix := []byte(addr + "\x00")
		cur := tx.Bucket(bucketX509Addr).Cursor()
		for key, _ := cur.Seek(prefix); key != nil && bytes.HasPrefix(key, prefix); key, _ = cur.Next() {
			if f := string(key[len(prefix):]); f != fpr {
				others = append(others, f)
			}
		}
		for _, f := range others {
			if err := unbind(tx, bucketX509Addr, bucketX509, addr, f); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fpr, fmt.Errorf("unbind the other certificates of %s: %w", addr, err)
	}
	return fpr, nil
}

// WithdrawCert marks the certificate der withdrawn at its holder's
// request, made by address (which the certificate must carry): it is no
// longer encrypted to, its signatures no longer count, and it is not
// captured or set again. A certificate not on file is recorded withdrawn,
// so that it is not captured later. It returns the fingerprint.
func (k *Keyring) WithdrawCert(address string, der []byte) (string, error) {
	addr, err := normAddress(address)
	if err != nil {
		return "", err
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "", fmt.Errorf("withdraw certificate: %w", err)
	}
	fpr := CertFingerprint(c)
	if addrs := smime.Addresses(c); !slices.Contains(addrs, addr) {
		return "", fmt.Errorf("certificate %s carries %q, not %s: %w", fpr, addrs, addr, ErrNotBound)
	}
	now := k.now()
	err = k.update(func(tx *bolt.Tx) error {
		var rec certRecord
		found, err := getJSON(tx, bucketX509, fpr, &rec)
		if err != nil {
			return err
		}
		if !found {
			rec = certRecord{Fingerprint: fpr, DER: c.Raw, Use: UseBoth, Added: now, Addresses: []string{addr}}
			if err := tx.Bucket(bucketX509Addr).Put([]byte(addr+"\x00"+fpr), nil); err != nil {
				return err
			}
		}
		if rec.Withdrawn.IsZero() {
			rec.Withdrawn = now
		}
		return putJSON(tx, bucketX509, fpr, &rec)
	})
	if err != nil {
		return "", fmt.Errorf("withdraw certificate %s: %w", fpr, err)
	}
	return fpr, nil
}

// CertWithdrawn reports whether the certificate with the SHA-256
// fingerprint (upper-case hex, as CertFingerprint) was withdrawn by its
// holder.
func (k *Keyring) CertWithdrawn(fingerprint string) bool {
	s, err := k.current()
	if err != nil {
		return false
	}
	r := s.certs[fingerprint]
	return r != nil && !r.Withdrawn.IsZero()
}

// SubscriberCerts returns the fingerprints of the certificates bound to
// address that the list can encrypt to at now.
func (k *Keyring) SubscriberCerts(address string, now time.Time) ([]string, error) {
	certs, _, err := k.encryptionCerts(address, now)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, c := range certs {
		out = append(out, CertFingerprint(c))
	}
	return out, nil
}

// CertDER returns the DER of the stored certificate with the SHA-256
// fingerprint (upper-case hex).
func (k *Keyring) CertDER(fingerprint string) ([]byte, bool) {
	s, err := k.current()
	if err != nil {
		return nil, false
	}
	r := s.certs[strings.ToUpper(fingerprint)]
	if r == nil {
		return nil, false
	}
	return r.DER, true
}
