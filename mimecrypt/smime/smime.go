// Package smime opens, signs and seals S/MIME messages (RFC 8551): it decrypts
// enveloped and authEnveloped data with the list's key, verifies multipart/signed
// and opaque signatures on the exact bytes that were signed, and writes signed
// and per-recipient encrypted entities for distribution.
package smime

import (
	"crypto"
	"crypto/x509"
	"time"

	"github.com/smallstep/pkcs7"
)

// Bounds on incoming messages.
const (
	// MaxMessageSize is the largest message Open accepts, in bytes.
	MaxMessageSize = 64 << 20
	// MaxLayers is how many S/MIME layers (signatures and envelopes) Open unwraps.
	MaxLayers = 4
	// maxSignedParts bounds the parts read from a multipart/signed body.
	maxSignedParts = 3
	// dateSkew is how far a signature's signingTime may lie from the Date field.
	dateSkew = time.Hour
)

// pkcs7's package globals default to DES and SHA-1; set them once, before
// any use, to what this package writes.
func init() {
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES256CBC
	if err := pkcs7.SetDefaultDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256); err != nil {
		panic(err)
	}
}

// OpenOptions holds what Open needs to decrypt and judge a message.
type OpenOptions struct {
	// Cert and Key are the list's certificate and private key. Without them an
	// encrypted message gives mimecrypt.ErrNoKey.
	Cert *x509.Certificate
	Key  crypto.PrivateKey

	// Roots are the trust anchors signer certificates must chain to. Nil
	// trusts nothing: every signer is then unknown-key.
	Roots *x509.CertPool
	// Intermediates are extra CA certificates for chain building, besides
	// those the signature carries.
	Intermediates *x509.CertPool
	// CRLs are the revocation lists consulted for every certificate of a chain.
	CRLs []*x509.RevocationList
	// Now is the time at which chains are validated; zero means time.Now().
	Now time.Time

	// Bindings says which certificates are on file for an address. A good
	// signature authenticates its From address only when the signer's
	// certificate carries that address, chains to Roots, and either is
	// one of the address's signing certificates on file, or the address
	// has none on file (first contact: the caller may then capture it).
	// "Any trusted certificate naming From" is never enough once the
	// address has a certificate on file. Nil means none is on file for any
	// address.
	Bindings CertBindings

	// RequireAEAD refuses enveloped-data (AES-CBC or any other cipher
	// without integrity) before decrypting it: only authEnveloped-data
	// (AES-GCM, RFC 5083) is opened. The error wraps
	// mimecrypt.ErrNoIntegrity.
	RequireAEAD bool
}

// CertBindings is what Open asks of the keyring about an address's
// certificates.
type CertBindings interface {
	// SigningCerts returns the SHA-256 fingerprints (upper-case hex) of the
	// certificates on file for address whose signatures count at now: bound
	// to it for signing, not withdrawn by their holder, and valid at now.
	SigningCerts(address string, now time.Time) []string
}

func (o *OpenOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}
