package pgp

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/mail"
	"strings"
	"time"

	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
)

// sigCheck is the outcome of checking the signatures of one signed content.
type sigCheck struct {
	verdict     mimecrypt.Verdict
	reason      string
	fingerprint string
	addresses   []string
	created     time.Time
	id          string // replay identity (signatureID) of a signature whose maths held
	// sig is the verified signature packet of a good signature made inside
	// an encrypted message (RFC 3156 6.2), kept so that it can travel on.
	sig *packet.Signature
}

// verifyDetached checks a detached signature (binary or armored) over data,
// which the caller has already canonicalised.
func (o *opener) verifyDetached(data, sig []byte) sigCheck {
	sigBin, err := dearmor(sig, "PGP SIGNATURE")
	if err != nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signature part cannot be read: " + err.Error()}
	}
	if n := countPackets(sigBin, 64); n > 32 {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signature part holds too many packets"}
	}
	md, err := openpgp.VerifyDetachedSignatureReader(o.ring, bytes.NewReader(data), bytes.NewReader(sigBin), o.cfg)
	if err != nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signature cannot be read: " + plainError(err)}
	}
	if _, err := io.Copy(io.Discard, md.UnverifiedBody); err != nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signature cannot be checked: " + plainError(err)}
	}
	return o.judge(md)
}

// countPackets counts the OpenPGP packets in b, stopping after limit.
func countPackets(b []byte, limit int) int {
	r := packet.NewReader(bytes.NewReader(b))
	n := 0
	for n <= limit {
		if _, err := r.Next(); err == io.EOF {
			break
		} else if err != nil {
			var unsupported pgperrors.UnsupportedError
			if !errors.As(err, &unsupported) {
				break
			}
		}
		n++
	}
	return n
}

// judge turns the signature candidates of a fully read message into a
// verdict, checking the signing key's state at o.now; bindFrom then checks
// the binding to From.
func (o *opener) judge(md *openpgp.MessageDetails) sigCheck {
	if len(md.SignatureCandidates) == 0 {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "no signature was found"}
	}
	var good, withKey *openpgp.SignatureCandidate
	for _, c := range md.SignatureCandidates {
		if c.SignedByEntity == nil {
			continue
		}
		if c.SignatureError == nil && c.SignedBy != nil {
			good = c
			break
		}
		if withKey == nil {
			withKey = c
		}
	}
	if good == nil && withKey == nil {
		c := md.SignatureCandidates[0]
		// The signature packet travels on unverified, for a caller that
		// checks it later with a key not on file (OpenOptions.KeepUnknownSignature).
		return sigCheck{verdict: mimecrypt.VerdictUnknownKey, sig: c.CorrespondingSig,
			reason: fmt.Sprintf("the signing key %016X is not known to the list", c.IssuerKeyId)}
	}
	if good == nil {
		return o.judgeFailure(withKey)
	}
	sig := good.CorrespondingSig
	key := good.SignedBy
	if len(sig.IssuerFingerprint) > 0 && !bytes.Equal(sig.IssuerFingerprint, key.PublicKey.Fingerprint) {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signature names a different key fingerprint than the key that verified it"}
	}
	ent := key.Entity
	chk := sigCheck{
		fingerprint: strings.ToUpper(fmt.Sprintf("%X", ent.PrimaryKey.Fingerprint)),
		created:     sig.CreationTime,
		id:          signatureID(ent.PrimaryKey.Fingerprint, sig, good.Hash),
	}
	if v, why := o.keyState(ent, key.PublicKey.KeyId); v != mimecrypt.VerdictGood {
		chk.verdict, chk.reason = v, why
		return chk
	}
	chk.addresses = o.ring.boundAddresses(ent)
	chk.verdict = mimecrypt.VerdictGood
	chk.sig = sig
	return chk
}

// judgeFailure explains a signature whose key is known but which did not verify.
func (o *opener) judgeFailure(c *openpgp.SignatureCandidate) sigCheck {
	err := c.SignatureError
	chk := sigCheck{fingerprint: strings.ToUpper(fmt.Sprintf("%X", c.SignedByEntity.PrimaryKey.Fingerprint))}
	switch {
	case errors.Is(err, pgperrors.ErrKeyRevoked) || c.SignedByEntity.Revoked(o.now):
		chk.verdict, chk.reason = mimecrypt.VerdictRevoked, "the signing key is revoked"
	case errors.Is(err, pgperrors.ErrKeyExpired):
		chk.verdict, chk.reason = mimecrypt.VerdictExpired, "the signing key had expired when the message was signed"
	case errors.Is(err, pgperrors.ErrSignatureExpired):
		chk.verdict, chk.reason = mimecrypt.VerdictExpired, "the signature has expired"
	case errors.As(err, new(pgperrors.WeakAlgorithmError)):
		chk.verdict = mimecrypt.VerdictBad
		chk.reason = "the signing key uses a weak algorithm (" + err.Error() + "); please sign with a current key (Ed25519 or RSA of at least 3072 bits)"
	case err != nil && strings.Contains(err.Error(), "insecure message hash algorithm"):
		chk.verdict = mimecrypt.VerdictBad
		chk.reason = "the signature uses a weak hash algorithm (" + c.HashAlgorithm.String() + "); please configure your client to sign with SHA-256 or stronger"
	default:
		chk.verdict, chk.reason = mimecrypt.VerdictBad, "the signature does not verify: "+plainError(err)
	}
	return chk
}

// keyState checks the signer's primary key and signing (sub)key at o.now.
func (o *opener) keyState(ent *openpgp.Entity, keyID uint64) (mimecrypt.Verdict, string) {
	if ent.Revoked(o.now) {
		return mimecrypt.VerdictRevoked, "the signing key has been revoked"
	}
	if _, err := ent.VerifyPrimaryKey(o.now, o.cfg); err != nil {
		if errors.Is(err, pgperrors.ErrKeyRevoked) {
			return mimecrypt.VerdictRevoked, "the signing key has been revoked"
		}
		if errors.Is(err, pgperrors.ErrKeyExpired) {
			return mimecrypt.VerdictExpired, "the signing key has expired"
		}
		return mimecrypt.VerdictBad, "the signing key is not valid: " + plainError(err)
	}
	for i := range ent.Subkeys {
		sk := &ent.Subkeys[i]
		if sk.PublicKey.KeyId != keyID {
			continue
		}
		if _, err := sk.Verify(o.now, o.cfg); err != nil {
			if errors.Is(err, pgperrors.ErrKeyRevoked) {
				return mimecrypt.VerdictRevoked, "the signing subkey has been revoked"
			}
			if errors.Is(err, pgperrors.ErrKeyExpired) {
				return mimecrypt.VerdictExpired, "the signing subkey has expired"
			}
			return mimecrypt.VerdictBad, "the signing subkey is not valid: " + plainError(err)
		}
	}
	return mimecrypt.VerdictGood, ""
}

// bindFrom applies security invariant 1 to a good signature: exactly one
// From address, and the signing key bound to it by the key source (never by
// a user ID the key merely carries).
func bindFrom(chk sigCheck, from []string) sigCheck {
	if chk.verdict != mimecrypt.VerdictGood {
		return chk
	}
	addrs, err := fromAddresses(from)
	if err != nil {
		chk.verdict, chk.reason = mimecrypt.VerdictSignerMismatch, err.Error()
		return chk
	}
	found := false
	for _, a := range chk.addresses {
		if a == addrs {
			found = true
		}
	}
	if !found {
		chk.verdict = mimecrypt.VerdictSignerMismatch
		chk.reason = fmt.Sprintf("the signing key is not bound to the sender address %s on this list's keyring", addrs)
		return chk
	}
	return chk
}

// bindSigned is bindFrom for a signature over a MIME entity (signed, its
// bytes): a From field inside the signature (protected header fields, RFC
// 9788, which clients show instead of the outer one) must name the same
// address as the outer From, else a reader would take the post for another
// sender's, authenticated by the signer's key.
func bindSigned(chk sigCheck, from []string, signed []byte) sigCheck {
	chk = bindFrom(chk, from)
	if chk.verdict != mimecrypt.VerdictGood {
		return chk
	}
	e, err := rawmime.Parse(signed)
	if err != nil || !e.Fields.Has("From") {
		return chk
	}
	outer, _ := fromAddresses(from)
	inner, err := fromAddresses(e.Fields.Values("From"))
	if err != nil || inner != outer {
		chk.verdict = mimecrypt.VerdictSignerMismatch
		chk.reason = "the From field inside the signature does not name the sender address " + outer
	}
	return chk
}

// fromAddresses returns the single lower-cased From address, or an error a
// sender may read when there is not exactly one.
func fromAddresses(from []string) (string, error) {
	if len(from) != 1 {
		return "", fmt.Errorf("the message has %d From header fields; exactly one is required", len(from))
	}
	list, err := mail.ParseAddressList(from[0])
	if err != nil || len(list) != 1 {
		return "", fmt.Errorf("the From header field must hold exactly one address")
	}
	return strings.ToLower(list[0].Address), nil
}

// plainError returns err's text, or "unknown error" for nil.
func plainError(err error) string {
	if err == nil {
		return "unknown error"
	}
	return err.Error()
}
