package service

import (
	"errors"
	"fmt"
	"time"

	"cloister/internal/site"
	"cloister/keyring"
)

// KeyStore is where subscriber keys are read and changed for the email key
// commands (site.KeyStore, declared there so that a site can hold one).
type KeyStore = site.KeyStore

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
