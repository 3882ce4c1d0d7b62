// Package mimecrypt holds what the OpenPGP and S/MIME layers of Cloister share:
// the verdicts and encryption kinds recorded on a queue entry, and the result of
// opening (decrypting and verifying) an incoming message. The formats themselves
// live in the subpackages pgp (RFC 3156 PGP/MIME and inline PGP) and smime
// (RFC 8551), both built on rawmime for byte-exact MIME splitting.
package mimecrypt

import (
	"errors"
	"time"

	"cloister/mailmsg/rawmime"
)

// Encryption says how an incoming message was encrypted.
type Encryption string

// Encryption kinds, as recorded in queue metadata (DESIGN.md section 4).
const (
	EncNone      Encryption = "none"
	EncPGPMIME   Encryption = "pgp-mime"
	EncPGPInline Encryption = "pgp-inline"
	EncSMIME     Encryption = "smime"
)

// Verdict is the outcome of checking a message's signature.
type Verdict string

// Verdicts, as recorded in queue metadata (DESIGN.md section 4).
const (
	VerdictNone           Verdict = "none"            // no signature found
	VerdictGood           Verdict = "good"            // verifies, signer known, valid, and bound to From by the keyring
	VerdictBad            Verdict = "bad"             // does not verify, or refused by policy (SHA-1, ...)
	VerdictUnknownKey     Verdict = "unknown-key"     // well-formed, but the signer's key or chain is unknown
	VerdictExpired        Verdict = "expired"         // the signer's key or certificate has expired
	VerdictRevoked        Verdict = "revoked"         // the signer's key or certificate is revoked
	VerdictSignerMismatch Verdict = "signer-mismatch" // good signature, but the keyring does not bind the key or certificate to the From address
)

// Method returns the authentication method the scenarios see for a verdict
// made with the given technology ("pgp" or "smime"): the technology only when
// the verdict is good, "smtp" otherwise (security invariant 1).
func (v Verdict) Method(tech string) string {
	if v == VerdictGood {
		return tech
	}
	return "smtp"
}

// Result is what opening an incoming message found.
type Result struct {
	Encryption Encryption // how the message was encrypted (EncNone if not)
	Verdict    Verdict    // the signature verdict (VerdictNone if unsigned)
	Reason     string     // why the verdict is not good, or why decryption failed; safe to show the sender

	SignerFingerprint string   // OpenPGP fingerprint (hex, upper case) or X.509 SHA-256 fingerprint of the signer
	SignerAddresses   []string // addresses the keyring binds the signer's key or certificate to (never its own user IDs)
	SignerCert        []byte   // S/MIME: the signer's certificate (DER), for automatic capture
	// SignatureID identifies what was signed, by whom, whatever its encoding
	// (OpenPGP: signer, signature type, hashed subpackets and signed digest;
	// CMS: signer's key and signed attributes or content digest), for replay
	// detection; "" when no signature verified.
	SignatureID string
	// SignatureTime is when the signer says it signed (OpenPGP creation
	// time, CMS signingTime); zero when unknown.
	SignatureTime time.Time

	// Malleable is set when a layer was decrypted from ciphertext without
	// integrity protection (S/MIME enveloped-data, AES-CBC) and no good
	// signature made inside that layer covers its plaintext (or the verdict
	// is not good): the plaintext may be an attacker's manipulation of a
	// captured message (a padding or CBC gadget oracle) and must not be
	// acted on. A signature outside the encryption does not count: anyone
	// can sign a manipulated ciphertext.
	Malleable bool

	// Message is the opened message: the outer header fields with the decrypted
	// (and unwrapped) content in place of the encrypted body. When the message
	// was neither encrypted nor wrapped it is the input, unchanged.
	Message []byte
}

// Errors shared by both technologies. Callers test them with errors.Is.
var (
	// ErrNoKey means the message is encrypted, but not to any key we hold.
	ErrNoKey = errors.New("message is not encrypted to a key this list holds")
	// ErrNoIntegrity means the encrypted data has no integrity protection (EFAIL, invariant 5).
	ErrNoIntegrity = errors.New("encrypted data has no integrity protection")
	// ErrTooLarge means a size, nesting or count bound was exceeded
	// (invariant 6); it is the MIME layer's error, so that a bound of either
	// layer is one error.
	ErrTooLarge = rawmime.ErrTooLarge
	// ErrMalformed means the message or its crypto layer could not be
	// parsed; it is the MIME layer's error too.
	ErrMalformed = rawmime.ErrMalformed
)
