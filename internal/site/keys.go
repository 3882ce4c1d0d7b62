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

// SealBody seals the plaintext body of an entry of an encrypted post (or of
// any entry whose metadata records that it carries content of one) before
// it is written to a queue, and marks the metadata; other bodies are returned
// as they are (and their metadata marked unsealed). body is always plaintext:
// a Sealed mark copied from the entry it came from is replaced. meta.ID must
// be final: the seal is bound to it.
func (s *Site) SealBody(meta *queue.Meta, body []byte) ([]byte, error) {
	meta.Sealed = nil
	if !meta.ArrivedEncrypted() && !meta.Confidential() {
		return body, nil
	}
	k, err := s.QueueKey()
	if err != nil {
		return nil, fmt.Errorf("seal entry %s: %w", meta.ID, err)
	}
	meta.Sealed = &queue.Seal{Alg: seal.Alg, KeyID: k.ID()}
	return k.Seal(body, []byte(meta.ID)), nil
}

// OpenBody returns the plaintext of a sealed body, or the body itself.
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
