package service

import (
	"errors"
	"fmt"
	"time"

	"cloister/keyring"
)

// KeyStore is where subscriber keys are read and changed for the email key
// commands: the OpenPGP key and S/MIME certificates bound to a subscriber's
// address. A site's keyring is one (KeyringStore); tests give others. The
// commands read through it; every change goes through the service's
// operations (KeyBind, KeyUnbind, CertWithdraw, ListKeyCertify), which
// authorize and audit it.
type KeyStore interface {
	// SubscriberPGP returns the fingerprint (hex, upper case) of the
	// OpenPGP key bound to address, or "" when there is none.
	SubscriberPGP(address string) (string, error)
	// SetSubscriberPGP binds the armored or binary public key to address,
	// replacing any key bound before; it returns the new fingerprint.
	SetSubscriberPGP(address string, key []byte, now time.Time) (string, error)
	// RevokeSubscriberPGP unbinds the key of address.
	RevokeSubscriberPGP(address string) error
	// CertifyListPGP records a member's verified certification of the
	// list's key, to be published with it.
	CertifyListPGP(list string, c keyring.ListCert) error
	// ListCertificationsPGP returns the certifications recorded for the
	// list's key.
	ListCertificationsPGP(list string) ([]keyring.ListCert, error)

	// SubscriberCerts returns the fingerprints of the certificates bound
	// to address that can be encrypted to now.
	SubscriberCerts(address string) ([]string, error)
	// CheckCert says why the DER certificate cannot be set for address by
	// its holder's request (it must carry the address, allow encryption,
	// chain to the site's trust anchors, and not be withdrawn); it returns
	// the fingerprint.
	CheckCert(address string, der []byte) (string, error)
	// SetSubscriberCert binds the certificate to address in place of its
	// other certificates; with trusted, it must pass CheckCert (without, an
	// owner's word is enough). It returns the fingerprint.
	SetSubscriberCert(address string, der []byte, trusted bool) (string, error)
	// WithdrawCert marks a certificate of address withdrawn by its holder:
	// it is no longer encrypted to and its signatures no longer count. It
	// returns the fingerprint.
	WithdrawCert(address string, der []byte) (string, error)
	// CertByFingerprint returns the DER of a stored certificate.
	CertByFingerprint(fingerprint string) ([]byte, bool)
}

// KeyringStore is the KeyStore of a site's keyring.
type KeyringStore struct{ K *keyring.Keyring }

// SubscriberPGP implements KeyStore: the key the list would encrypt to.
func (s KeyringStore) SubscriberPGP(address string) (string, error) {
	e, err := s.K.EncryptionKeyPGP(address, time.Now())
	if err != nil {
		if errors.Is(err, keyring.ErrNoKey) {
			return "", nil
		}
		return "", nil // expired or revoked keys cannot prove a change either
	}
	return fmt.Sprintf("%X", e.PrimaryKey.Fingerprint), nil
}

// SetSubscriberPGP implements KeyStore: the new key is added (it must carry
// the address in a self-signed user ID), then the old one unbound.
func (s KeyringStore) SetSubscriberPGP(address string, key []byte, now time.Time) (string, error) {
	old, _ := s.SubscriberPGP(address)
	fpr, err := s.K.AddOpenPGP(address, key, false)
	if err != nil {
		return "", err
	}
	if old != "" && old != fpr {
		if _, err := s.K.Remove(address, old); err != nil {
			return fpr, fmt.Errorf("unbind the old key %s: %w", old, err)
		}
	}
	return fpr, nil
}

// RevokeSubscriberPGP implements KeyStore.
func (s KeyringStore) RevokeSubscriberPGP(address string) error {
	old, err := s.SubscriberPGP(address)
	if err != nil || old == "" {
		return err
	}
	_, err = s.K.Remove(address, old)
	return err
}

// CertifyListPGP implements KeyStore.
func (s KeyringStore) CertifyListPGP(list string, c keyring.ListCert) error {
	return s.K.AddListCertification(list, c)
}

// ListCertificationsPGP implements KeyStore.
func (s KeyringStore) ListCertificationsPGP(list string) ([]keyring.ListCert, error) {
	return s.K.ListCertifications(list)
}

// SubscriberCerts implements KeyStore.
func (s KeyringStore) SubscriberCerts(address string) ([]string, error) {
	return s.K.SubscriberCerts(address, time.Now())
}

// CheckCert implements KeyStore.
func (s KeyringStore) CheckCert(address string, der []byte) (string, error) {
	return s.K.CheckCert(address, der)
}

// SetSubscriberCert implements KeyStore.
func (s KeyringStore) SetSubscriberCert(address string, der []byte, trusted bool) (string, error) {
	return s.K.SetCert(address, der, trusted)
}

// WithdrawCert implements KeyStore.
func (s KeyringStore) WithdrawCert(address string, der []byte) (string, error) {
	return s.K.WithdrawCert(address, der)
}

// CertByFingerprint implements KeyStore.
func (s KeyringStore) CertByFingerprint(fingerprint string) ([]byte, bool) {
	return s.K.CertDER(fingerprint)
}
