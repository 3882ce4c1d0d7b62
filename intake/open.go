// Package intake opens the crypto layer of incoming mail: it decrypts and
// verifies a post with the list's keys, records what it found in the
// entry's metadata, and refuses, with one fixed answer whatever the cause,
// what cannot be opened or must not be acted on. The incoming runner calls
// it.
package intake

import (
	"bytes"
	"errors"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/internal/refusal"
	"cloister/internal/site"
	"cloister/internal/stats"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
	"cloister/mimecrypt/pgp"
	"cloister/mimecrypt/smime"
	"cloister/queue"
)

// tech says which crypto layer, if any, a message's top level uses. It
// classifies mail from outside only, for the incoming runner: whether
// Cloister's own mail is protected is recorded in its metadata by the code
// that writes it (queue.Meta.Carries), never read from its bytes.
func tech(body []byte) string {
	ent, err := rawmime.Parse(body)
	if err != nil {
		return ""
	}
	mt, params, err := ent.MediaType()
	if err != nil {
		return ""
	}
	proto := strings.ToLower(params["protocol"])
	switch {
	case mt == "multipart/encrypted":
		return "pgp"
	case mt == "multipart/signed" && strings.Contains(proto, "pgp"):
		return "pgp"
	case mt == "multipart/signed" && strings.Contains(proto, "pkcs7"):
		return "smime"
	case mt == "application/pkcs7-mime" || mt == "application/x-pkcs7-mime":
		return "smime"
	case strings.HasPrefix(mt, "text/") || mt == "multipart/mixed" || mt == "multipart/alternative":
		// bytes, not a string of the body: that would copy a whole post.
		if bytes.Contains(ent.Body, []byte("-----BEGIN PGP ")) {
			return "pgp"
		}
	}
	return ""
}

// MayOpen reports whether a message whose first bytes are prefix (its
// header and the start of its body, or all of it) may have a crypto layer
// that Open decrypts or verifies with the list's keys. A false answer for
// a prefix is no promise: an inline block further down is not seen. The
// incoming runner uses it to unlock the list's keys before reading a large
// post only when they may be needed.
func MayOpen(prefix []byte) bool { return tech(prefix) != "" }

// Refusal is mail the list cannot open, or must not act on: the sender
// gets the list's one fixed answer (notices.Refusal), whatever the cause;
// Reason says the cause for the operator's log only, in fixed words
// (refusalClass): a library's error text may quote a decrypted line.
type Refusal struct {
	Reason string
	// Hint is added to the answer: only words fixed by the code or read
	// from the clear parts of the message, never a value the list's key
	// decrypted.
	Hint refusal.Reason
}

func (e *Refusal) Error() string { return e.Reason }

// Open decrypts and verifies a post with the list's keys and records what
// it found in m. It returns the opened message. Sites without a keyring see
// every message as plaintext. The certificate (DER) of a good S/MIME
// signature is given to capture, which decides whether to keep it.
func Open(s *site.Site, list *lists.List, m *queue.Meta, body []byte, capture func(cert []byte)) ([]byte, error) {
	t := tech(body)
	if t == "" || s.Keys == nil {
		return body, nil
	}
	if !decrypts(m.Subaddress) && isEncryption(body) {
		// Opaque: these addresses act on the envelope and the outer header
		// alone, so there is nothing to decrypt, and nothing to answer from.
		return body, nil
	}
	var res *mimecrypt.Result
	var err error
	defer stats.Time("incoming", `op="open",tech="`+t+`"`, time.Now())
	switch t {
	case "pgp":
		// An answer to a key challenge may be signed inside the encryption
		// by the offered key, not yet on file: keep that signature for the
		// confirm command to check.
		opts := pgp.OpenOptions{Senders: s.Keys.Senders(), KeepUnknownSignature: m.Subaddress == queue.SubConfirm}
		key, kerr := s.Keys.ListPGP(list.Address)
		switch {
		case kerr == nil:
			opts.ListKeys = openpgp.EntityList{key}
		case !errors.Is(kerr, site.ErrNoListKey):
			return nil, kerr
		}
		res, err = pgp.Open(body, opts)
	case "smime":
		opts := smime.OpenOptions{Bindings: s.Keys}
		cert, key, _, kerr := s.Keys.ListSMIME(list.Address)
		switch {
		case kerr == nil:
			opts.Cert, opts.Key = cert, key
		case !errors.Is(kerr, site.ErrNoListKey):
			return nil, kerr
		}
		if opts.Roots, opts.CRLs, err = s.Keys.SMIMETrust(); err != nil {
			return nil, err
		}
		opts.RequireAEAD = list.Settings.SMIMERequireAEAD
		res, err = smime.Open(body, opts)
	}
	if err != nil {
		// Every failure gets the same answer: a different one for bad
		// padding, a bad MAC or unparsable plaintext is an oracle on the
		// plaintext of a captured message.
		r := &Refusal{Reason: t + " layer: " + refusalClass(err)}
		if uc := (*pgp.UnsupportedCipherError)(nil); errors.As(err, &uc) && uc.InClear {
			r.Hint = refusal.Reasonf("Your message names the cipher %s, which the list does not support.\n", uc.Cipher)
		}
		return nil, r
	}
	if res.Malleable {
		// CBC without integrity, and no good signature by the From address
		// inside the encryption: the plaintext may be a manipulated
		// capture. It is acted on in no way, and answered like a failure.
		return nil, &Refusal{Reason: "S/MIME enveloped-data without a good signature inside the encryption"}
	}
	if _, err := mailmsg.Parse(res.Message); err != nil {
		// Caught here, answered like any failure: later runners would put
		// it in bad with an error quoting the decrypted header, in clear.
		return nil, &Refusal{Reason: t + " layer: the opened message has no readable header"}
	}
	if t == "smime" && res.Verdict == mimecrypt.VerdictGood && s.Keys.CertWithdrawn(res.SignerFingerprint) {
		res.Verdict = mimecrypt.VerdictRevoked
		res.Reason = "the signer withdrew this certificate (key revoke); sign with your current certificate"
	}
	m.Encryption = string(res.Encryption)
	m.Verdict = string(res.Verdict)
	m.VerdictReason = res.Reason
	m.SignerFpr = res.SignerFingerprint
	m.SignerAddresses = res.SignerAddresses
	m.SignatureID, m.SignatureTime = res.SignatureID, res.SignatureTime
	m.Auth = res.Verdict.Method(t)
	if t == "smime" && res.Verdict == mimecrypt.VerdictGood && res.SignerCert != nil && capture != nil {
		capture(res.SignerCert)
	}
	return res.Message, nil
}

// refusalClass words why a message could not be opened, for the log, from
// the error's class alone.
func refusalClass(err error) string {
	var uc *pgp.UnsupportedCipherError
	switch {
	case errors.As(err, &uc):
		return uc.Error()
	case errors.Is(err, mimecrypt.ErrNoKey):
		return "not encrypted to a key of this list"
	case errors.Is(err, mimecrypt.ErrNoIntegrity):
		return "encryption without integrity protection"
	case errors.Is(err, mimecrypt.ErrTooLarge):
		return "over a size, nesting or count limit"
	case errors.Is(err, mimecrypt.ErrMalformed):
		return "unreadable (malformed, or fails to decrypt)"
	}
	return "cannot be opened"
}
