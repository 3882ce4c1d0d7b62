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
	// RequireAEAD refuses enveloped-data (AES-CBC or any other cipher
	// without integrity) before decrypting it: only authEnveloped-data
	// (AES-GCM, RFC 5083) is opened. The error wraps
	// mimecrypt.ErrNoIntegrity.
	RequireAEAD bool
}

func (o *OpenOptions) now() time.Time {
	if o.Now.IsZero() {
		return time.Now()
	}
	return o.Now
}
