package site

import (
	"crypto"
	"crypto/x509"
	"fmt"
	"sync"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/seal"
	"cloister/keyring"
	"cloister/mimecrypt/pgp"
	"cloister/queue"
)

// Keys is what the runners need of the keyring: the list's own keys
// (unlocked), subscribers' keys and certificates for encryption, senders'
// keys for verification, and S/MIME trust. The keyring package implements it.
// What else code needs of the keys is declared too, never reached by a type
// assertion on Keys (TestNoAssertionOnSiteKeys): ArchiveKeys and KeyStore,
// which Site holds as fields of their own, and what only the keyring does,
// through Site.Keyring.
type Keys interface {
	// ListPGP returns the list's unlocked OpenPGP key, or ErrNoListKey.
	ListPGP(list string) (*openpgp.Entity, error)
	// ListSMIME returns the list's certificate, key and chain, or ErrNoListKey.
	ListSMIME(list string) (*x509.Certificate, crypto.Signer, []*x509.Certificate, error)
	// Senders finds senders' public keys by key ID.
	Senders() pgp.KeySource
	// SMIMETrust returns the trust anchors and CRLs.
	SMIMETrust() (*x509.CertPool, []*x509.RevocationList, error)
	// EncryptionPGP returns a subscriber's usable OpenPGP key, or an error
	// saying why there is none.
	EncryptionPGP(address string, now time.Time) (*openpgp.Entity, error)
	// EncryptionCert returns a subscriber's usable encryption certificate.
	EncryptionCert(address string, now time.Time) (*x509.Certificate, error)
	// Capture records a certificate from a verified S/MIME signature.
	Capture(address string, der []byte) error
	// SigningCerts returns the fingerprints of the certificates on file
	// for an address whose signatures count at now: an S/MIME signature by
	// another certificate naming the address does not authenticate it.
	SigningCerts(address string, now time.Time) []string
	// CertWithdrawn reports whether its holder withdrew the certificate
	// with the SHA-256 fingerprint (key revoke by mail): its signatures no
	// longer count.
	CertWithdrawn(fingerprint string) bool
}

// ArchiveKeys are the keys of list archives (the keyring's): an encrypted
// archive is written to the public key and read with the secret one.
type ArchiveKeys interface {
	// ArchiveKey returns the public archive key of list, or ErrNoListKey.
	ArchiveKey(list string) (*openpgp.Entity, error)
	// ArchiveSecretKey returns the archive key of list, unlocked.
	ArchiveSecretKey(list string) (*openpgp.Entity, error)
	// GenerateArchiveKey makes and stores the archive key of list.
	GenerateArchiveKey(list string) (string, error)
}

// KeyStore is where subscriber keys are read and changed for the email key
// commands: the OpenPGP key and S/MIME certificates bound to a subscriber's
// address. A site's keyring is one (service.KeyringStore); tests give others. The
// commands read through it; every change goes through the service's
// operations (service.KeyBind, KeyUnbind, CertWithdraw, ListKeyCertify), which
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

// SetKeyring makes k the site's keys: Keys, Keyring and ArchiveKeys (a nil
// k leaves the site without keys). Code that opens a keyring for a site
// calls it rather than setting the fields one by one, so that no feature of
// the keyring is left off.
func (s *Site) SetKeyring(k *keyring.Keyring) {
	if k == nil {
		s.Keys, s.Keyring, s.ArchiveKeys = nil, nil, nil
		return
	}
	s.Keys, s.Keyring, s.ArchiveKeys = k, k, k
}

// ErrNoListKey means the list has no key of that kind (the keyring's error).
var ErrNoListKey = keyring.ErrNoListKey

// queueKey is loaded once per process, on first use.
type queueKey struct {
	once sync.Once
	key  *seal.Key
	err  error
}

// QueueKey returns the queue key that seals plaintext of encrypted posts.
func (s *Site) QueueKey() (*seal.Key, error) {
	s.qk.once.Do(func() { s.qk.key, s.qk.err = seal.Load(s.Config.QueueKeyFile) })
	return s.qk.key, s.qk.err
}

// SealingKey marks meta for the entry it describes and returns the queue key
// to seal its body with: an entry of an encrypted post (or any entry whose
// metadata records that it carries content of one) is sealed before it is
// written to a queue; for other entries it returns nil and marks the metadata
// unsealed. A Sealed mark copied from the entry it came from is replaced.
// meta.ID must be final: the seal is bound to it.
func (s *Site) SealingKey(meta *queue.Meta) (*seal.Key, error) {
	meta.Sealed = nil
	if !meta.ArrivedEncrypted() && !meta.Confidential() {
		return nil, nil
	}
	k, err := s.QueueKey()
	if err != nil {
		return nil, fmt.Errorf("seal entry %s: %w", meta.ID, err)
	}
	meta.Sealed = &queue.Seal{Alg: seal.Alg, KeyID: k.ID()}
	return k, nil
}

// SealBody seals the plaintext body of an entry as SealingKey says, and
// marks the metadata; other bodies are returned as they are. body is always
// plaintext.
func (s *Site) SealBody(meta *queue.Meta, body []byte) ([]byte, error) {
	k, err := s.SealingKey(meta)
	if err != nil || k == nil {
		return body, err
	}
	return k.Seal(body, []byte(meta.ID)), nil
}

// OpenBody returns the plaintext of a sealed body, or the body itself. A
// sealed body is opened in place: the caller keeps no use of body after it.
func (s *Site) OpenBody(meta *queue.Meta, body []byte) ([]byte, error) {
	if meta.Sealed == nil {
		return body, nil
	}
	k, err := s.QueueKey()
	if err != nil {
		return nil, fmt.Errorf("open sealed entry %s: %w", meta.ID, err)
	}
	if meta.Sealed.KeyID != k.ID() {
		return nil, fmt.Errorf("entry %s was sealed with queue key %s, this process has %s", meta.ID, meta.Sealed.KeyID, k.ID())
	}
	pt, err := k.Open(body, []byte(meta.ID))
	if err != nil {
		return nil, fmt.Errorf("entry %s: %w", meta.ID, err)
	}
	return pt, nil
}
