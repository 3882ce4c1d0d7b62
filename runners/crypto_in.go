package runners

import (
	"errors"
	"fmt"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/lists"
	"cloister/mimecrypt"
	"cloister/mimecrypt/pgp"
	"cloister/mimecrypt/rawmime"
	"cloister/mimecrypt/smime"
	"cloister/queue"
	"cloister/site"
	"cloister/stats"
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
		if strings.Contains(string(ent.Body), "-----BEGIN PGP ") {
			return "pgp"
		}
	}
	return ""
}

// cryptoRefusal is a post the list cannot open: the sender gets a notice with
// the reason, and nothing else happens (it is not an operator's problem).
type cryptoRefusal struct{ reason string }

func (e *cryptoRefusal) Error() string { return e.reason }

// openCrypto decrypts and verifies a post with the list's keys and records
// what it found in m. It returns the opened message. Sites without a keyring
// see every message as plaintext.
func openCrypto(s *site.Site, list *lists.List, m *queue.Meta, body []byte) ([]byte, error) {
	t := tech(body)
	if t == "" || s.Keys == nil {
		return body, nil
	}
	var res *mimecrypt.Result
	var err error
	defer stats.Time("incoming", `op="open",tech="`+t+`"`, time.Now())
	switch t {
	case "pgp":
		opts := pgp.OpenOptions{Senders: s.Keys.Senders()}
		key, kerr := s.Keys.ListPGP(list.Address)
		switch {
		case kerr == nil:
			opts.ListKeys = openpgp.EntityList{key}
		case !errors.Is(kerr, site.ErrNoListKey):
			return nil, kerr
		}
		res, err = pgp.Open(body, opts)
	case "smime":
		opts := smime.OpenOptions{}
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
		res, err = smime.Open(body, opts)
	}
	switch {
	case errors.Is(err, mimecrypt.ErrNoKey):
		return nil, &cryptoRefusal{"the post is encrypted, but not to this list's key; encrypt it to the list's key (ask " + list.Address[:strings.IndexByte(list.Address, '@')] + "-sendkey@" + list.Address[strings.IndexByte(list.Address, '@')+1:] + " for it)"}
	case errors.Is(err, mimecrypt.ErrNoIntegrity):
		return nil, &cryptoRefusal{"the post's encryption has no integrity protection (no MDC); such messages are refused, send it again with a current OpenPGP program"}
	case errors.Is(err, mimecrypt.ErrTooLarge):
		return nil, &cryptoRefusal{"the post exceeds a size, nesting or count limit once decrypted or unpacked"}
	case errors.Is(err, mimecrypt.ErrMalformed):
		return nil, &cryptoRefusal{fmt.Sprintf("the post's %s layer cannot be read: %v", strings.ToUpper(t), err)}
	case err != nil:
		return nil, err
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
	m.Auth = res.Verdict.Method(t)
	if t == "smime" && res.Verdict == mimecrypt.VerdictGood && res.SignerCert != nil {
		if err := s.Keys.Capture(m.From, res.SignerCert); err != nil {
			s.Log.Info("certificate not captured", "entry", m.ID, "from", m.From, "reason", err.Error())
		}
	}
	return res.Message, nil
}
