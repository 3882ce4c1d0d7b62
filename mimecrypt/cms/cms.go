// Package cms reads and writes the Cryptographic Message Syntax envelopes that
// S/MIME carries: EnvelopedData (RFC 5652) and AuthEnvelopedData with AES-GCM
// (RFC 5083/5084), with RSA key transport (PKCS#1 v1.5 and OAEP) and ECDH key
// agreement (RFC 5753), encrypting the content once for any number of recipients.
package cms

import (
	_ "crypto/sha1" // KDF and OAEP hashes are looked up through crypto.Hash
	_ "crypto/sha256"
	_ "crypto/sha512"
	"encoding/asn1"
	"errors"
)

// Bounds on what the parser accepts.
const (
	// MaxInput is the largest CMS object the parser accepts, in bytes.
	MaxInput = 64 << 20
	// MaxDepth is the deepest ASN.1 nesting the parser accepts. Real S/MIME
	// objects, certificates included, stay well below 20.
	MaxDepth = 32
	// MaxRecipients is the most RecipientInfos an envelope may carry.
	MaxRecipients = 10000
)

// Errors returned by this package; callers test them with errors.Is.
var (
	// ErrMalformed means the input is not a well-formed CMS object.
	ErrMalformed = errors.New("cms: malformed input")
	// ErrTooLarge means the input exceeds MaxInput, MaxDepth or MaxRecipients.
	ErrTooLarge = errors.New("cms: input exceeds a size, nesting or count limit")
	// ErrUnsupported means an algorithm or structure this package does not handle.
	ErrUnsupported = errors.New("cms: unsupported algorithm or structure")
	// ErrNoRecipient means no RecipientInfo names the given certificate.
	ErrNoRecipient = errors.New("cms: no recipient info for this certificate")
	// ErrDecrypt means the content or key could not be decrypted or authenticated.
	ErrDecrypt = errors.New("cms: decryption failed")
)

// Object identifiers for content types and algorithms.
var (
	OIDData                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
	OIDSignedData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
	OIDEnvelopedData       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 3}
	OIDAuthEnvelopedData   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 23}
	OIDCompressedData      = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 16, 1, 9}
	oidContentTypeAttr     = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
	oidRSAEncryption       = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 1}
	oidRSAOAEP             = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	oidMGF1                = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
	oidPSpecified          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 9}
	oidSHA1                = asn1.ObjectIdentifier{1, 3, 14, 3, 2, 26}
	oidSHA224              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 4}
	oidSHA256              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
	oidSHA384              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 2}
	oidSHA512              = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
	oidAES128CBC           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	oidAES192CBC           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	oidAES256CBC           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	oidAES128GCM           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}
	oidAES192GCM           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 26}
	oidAES256GCM           = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
	oidAES128Wrap          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 5}
	oidAES192Wrap          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 25}
	oidAES256Wrap          = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 45}
	oidDESEDE3CBC          = asn1.ObjectIdentifier{1, 2, 840, 113549, 3, 7}
	oidECPublicKey         = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidStdDHSHA1KDF        = asn1.ObjectIdentifier{1, 3, 133, 16, 840, 63, 0, 2}
	oidStdDHSHA224KDF      = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 0}
	oidStdDHSHA256KDF      = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 1}
	oidStdDHSHA384KDF      = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 2}
	oidStdDHSHA512KDF      = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 3}
	oidCofactorDHSHA224KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 0}
	oidCofactorDHSHA256KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 1}
	oidCofactorDHSHA384KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 2}
	oidCofactorDHSHA512KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 14, 3}
	oidX25519              = asn1.ObjectIdentifier{1, 3, 101, 110}
	oidCurveP256           = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidCurveP384           = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidCurveP521           = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)
