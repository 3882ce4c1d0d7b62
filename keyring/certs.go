package keyring

import (
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"cloister/mimecrypt/smime"
)

// Use says what a subscriber's certificate is for (after Sympa's @sign and
// @enc certificates).
type Use string

// Uses of a certificate.
const (
	UseSign    Use = "sign"
	UseEncrypt Use = "encrypt"
	UseBoth    Use = "both"
)

// encrypts reports whether u includes encryption.
func (u Use) encrypts() bool { return u == UseEncrypt || u == UseBoth }

// certRecord is a subscriber's certificate.
type certRecord struct {
	Fingerprint string    `json:"fingerprint"` // SHA-256 of the DER, upper-case hex
	DER         []byte    `json:"der"`
	Addresses   []string  `json:"addresses"`
	Use         Use       `json:"use"`
	Captured    bool      `json:"captured,omitempty"` // from a verified signature, not added by hand
	Added       time.Time `json:"added"`
	// Withdrawn is when its holder withdrew it by a signed key revoke: it
	// is no longer encrypted to, its signatures no longer count, and it is
	// not captured or set again.
	Withdrawn time.Time `json:"withdrawn,omitzero"`
}

// CertFingerprint returns the upper-case hex SHA-256 of a certificate's DER.
func CertFingerprint(c *x509.Certificate) string {
	sum := sha256.Sum256(c.Raw)
	return strings.ToUpper(hex.EncodeToString(sum[:]))
}

// AddCert stores a subscriber's certificate (PEM or DER; of a PEM file the
// first certificate) for address and use. The certificate must carry the
// address (subjectAltName rfc822Name or subject emailAddress); one added
// for encryption must have a key and key usage that allow it. An expired
// certificate is stored and refused at use. It returns the fingerprint.
func (k *Keyring) AddCert(address string, data []byte, use Use) (string, error) {
	addr, err := normAddress(address)
	if err != nil {
		return "", err
	}
	switch use {
	case UseSign, UseEncrypt, UseBoth:
	case "":
		use = UseBoth
	default:
		return "", fmt.Errorf("certificate use %q: want sign, encrypt or both", use)
	}
	if len(data) > maxKeyInput {
		return "", fmt.Errorf("certificate file of %d bytes is larger than %d", len(data), maxKeyInput)
	}
	certs, err := parseCerts(data)
	if err != nil {
		return "", fmt.Errorf("read certificate: %w", err)
	}
	if len(certs) == 0 {
		return "", errors.New("read certificate: no certificate in the file")
	}
	return k.storeCert(addr, certs[0], use, false)
}

// storeCert checks and stores one certificate for addr.
func (k *Keyring) storeCert(addr string, c *x509.Certificate, use Use, captured bool) (string, error) {
	fpr := CertFingerprint(c)
	if addrs := smime.Addresses(c); !slices.Contains(addrs, addr) {
		return "", fmt.Errorf("certificate %s carries %q, not %s: %w", fpr, addrs, addr, ErrNotBound)
	}
	if use.encrypts() {
		if err := smime.CanEncryptTo(c); err != nil && !errors.Is(err, smime.ErrCertExpired) {
			return "", fmt.Errorf("certificate %s cannot be encrypted to: %w", fpr, err)
		}
	}
	now := k.now()
	err := k.update(func(tx *bolt.Tx) error {
		var rec certRecord
		found, err := getJSON(tx, bucketX509, fpr, &rec)
		if err != nil {
			return err
		}
		if found && !rec.Withdrawn.IsZero() {
			return fmt.Errorf("it was withdrawn by its holder on %s: %w", rec.Withdrawn.UTC().Format(time.DateOnly), ErrRevoked)
		}
		if !found {
			rec = certRecord{Fingerprint: fpr, DER: c.Raw, Use: use, Captured: captured, Added: now}
		} else if rec.Use != use && !captured {
			rec.Use = use
		}
		if !slices.Contains(rec.Addresses, addr) {
			rec.Addresses = append(rec.Addresses, addr)
		}
		if err := putJSON(tx, bucketX509, fpr, &rec); err != nil {
			return err
		}
		return tx.Bucket(bucketX509Addr).Put([]byte(addr+"\x00"+fpr), nil)
	})
	if err != nil {
		return "", fmt.Errorf("store certificate %s: %w", fpr, err)
	}
	return fpr, nil
}

// Capture records the certificate of a verified S/MIME signature from
// address, for later encryption to it: only if it chains to the trust
// anchors (SetTrust) for email protection at the current time, is not
// revoked by a CRL, carries address, and allows encryption. Otherwise it
// returns why, and stores nothing.
func (k *Keyring) Capture(address string, der []byte) error {
	return k.CaptureWith(address, der, nil)
}

// CaptureWith is Capture with intermediate certificates that the signature
// carried, for chain building.
func (k *Keyring) CaptureWith(address string, der []byte, intermediates []*x509.Certificate) error {
	addr, c, err := k.checkTrusted(address, der, intermediates)
	if err != nil {
		return fmt.Errorf("capture: %w", err)
	}
	_, err = k.storeCert(addr, c, UseBoth, true)
	return err
}

// checkTrusted parses der and checks what Capture requires of it: it
// carries address, allows encryption, chains to the trust anchors for
// email protection at the current time, and no CRL revokes it.
func (k *Keyring) checkTrusted(address string, der []byte, intermediates []*x509.Certificate) (string, *x509.Certificate, error) {
	addr, err := normAddress(address)
	if err != nil {
		return "", nil, err
	}
	if len(der) > maxKeyInput {
		return "", nil, fmt.Errorf("certificate of %d bytes is too large", len(der))
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "", nil, err
	}
	if !slices.Contains(smime.Addresses(c), addr) {
		return "", nil, fmt.Errorf("certificate carries %q, not %s: %w", smime.Addresses(c), addr, ErrNotBound)
	}
	if err := smime.CanEncryptTo(c); err != nil {
		return "", nil, err
	}
	roots, crls, _ := k.SMIMETrust()
	inter := x509.NewCertPool()
	for _, ic := range intermediates {
		inter.AddCert(ic)
	}
	chains, err := c.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: k.now(),
		KeyUsages: []x509.ExtKeyUsage{x509.ExtKeyUsageEmailProtection}})
	if err != nil {
		return "", nil, fmt.Errorf("%w: %w", ErrNotTrusted, err)
	}
	for _, chain := range chains {
		for i := 0; i+1 < len(chain); i++ {
			if revokedBy(chain[i], chain[i+1], crls) {
				return "", nil, fmt.Errorf("certificate %s: %w", CertFingerprint(chain[i]), ErrRevoked)
			}
		}
	}
	return addr, c, nil
}

// EncryptionCert returns the certificate to encrypt to address at now: of
// its certificates stored for encryption, the newest valid one that is not
// revoked by a CRL and whose key usage allows encryption. Otherwise the
// error wraps ErrNoKey, ErrExpired, ErrRevoked or ErrNoEncryptionSubkey.
func (k *Keyring) EncryptionCert(address string, now time.Time) (*x509.Certificate, error) {
	certs, why, err := k.encryptionCerts(address, now)
	if err != nil {
		return nil, err
	}
	var best *x509.Certificate
	for _, c := range certs {
		if best == nil || c.NotBefore.After(best.NotBefore) {
			best = c
		}
	}
	if best == nil {
		return nil, why
	}
	return best, nil
}

// encryptionCerts returns address's certificates that can be encrypted to
// at now; when there is none, why says so (wrapping ErrNoKey, ErrExpired,
// ErrRevoked or ErrNoEncryptionSubkey). err is a failure to read them.
func (k *Keyring) encryptionCerts(address string, now time.Time) (certs []*x509.Certificate, why, err error) {
	addr, err := normAddress(address)
	if err != nil {
		return nil, nil, err
	}
	s, err := k.current()
	if err != nil {
		return nil, nil, err
	}
	_, crls, _ := k.SMIMETrust()
	for _, fpr := range s.certAddr[addr] {
		r := s.certs[fpr]
		if r == nil || !r.Use.encrypts() {
			continue
		}
		if !r.Withdrawn.IsZero() {
			why = fmt.Errorf("certificate %s of %s: withdrawn by its holder: %w", fpr, addr, ErrRevoked)
			continue
		}
		c, err := x509.ParseCertificate(r.DER)
		if err != nil {
			return nil, nil, fmt.Errorf("stored certificate %s: %w", fpr, err)
		}
		if err := certEncryptable(c, now, crls); err != nil {
			why = fmt.Errorf("certificate %s of %s: %w", fpr, addr, err)
			continue
		}
		certs = append(certs, c)
	}
	if len(certs) == 0 && why == nil {
		why = fmt.Errorf("%s: %w", addr, ErrNoKey)
	}
	return certs, why, nil
}

// certEncryptable says why c cannot be encrypted to at now, nil if it can.
func certEncryptable(c *x509.Certificate, now time.Time, crls []*x509.RevocationList) error {
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return fmt.Errorf("%w (valid %s to %s)", ErrExpired, c.NotBefore.UTC().Format(time.DateOnly), c.NotAfter.UTC().Format(time.DateOnly))
	}
	if revokedBy(c, nil, crls) {
		return ErrRevoked
	}
	if err := smime.CanEncryptTo(c); err != nil && !errors.Is(err, smime.ErrCertExpired) {
		return fmt.Errorf("%w: %w", ErrNoEncryptionSubkey, err)
	}
	return nil
}

// SigningCerts returns the SHA-256 fingerprints of the certificates on
// file for address whose signatures authenticate it at now: bound to it
// for signing (use sign or both, added by an owner, set by a proven key
// set or captured), not withdrawn by their holder, and valid at now. The
// S/MIME verifier takes a signature by any other certificate naming the
// address as a signer mismatch while this list is not empty
// (smime.OpenOptions.Bindings).
func (k *Keyring) SigningCerts(address string, now time.Time) []string {
	addr, err := normAddress(address)
	if err != nil {
		return nil
	}
	s, err := k.current()
	if err != nil {
		return nil
	}
	var out []string
	for _, fpr := range s.certAddr[addr] {
		r := s.certs[fpr]
		if r == nil || r.Use == UseEncrypt || !r.Withdrawn.IsZero() {
			continue
		}
		c, err := x509.ParseCertificate(r.DER)
		if err != nil || now.Before(c.NotBefore) || now.After(c.NotAfter) {
			continue
		}
		out = append(out, fpr)
	}
	return out
}
