package runners

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloister/cms"
	"cloister/mimecrypt/pgp"
	"cloister/mimecrypt/rawmime"
	"cloister/queue"
	"cloister/site"
	"cloister/stats"
)

// errEgress wraps every refusal of the egress gate.
var errEgress = errors.New("egress gate")

// egress is the gate for the copies of one entry: the last step before a
// copy is handed to the MTA (security invariant 2). A copy of an entry that
// carries content of an encrypted post (its recorded queue.Meta.Carries,
// never its bytes) must be an encryption, PGP/MIME multipart/encrypted or
// S/MIME enveloped or authEnveloped data, addressed to exactly the keys on
// file for the copy's recipients and to no one else; the content-free
// notice the distributor writes for a recipient without a key (notice) is
// the one other thing that may go. Anything else is refused with the
// reason, counted, and never sent: the caller parks the refused recipients
// in bad. The copies of one post share their encrypted data, which the gate
// walks once (pgp.Checker).
type egress struct {
	site *site.Site
	now  time.Time
	pgp  pgp.Checker
}

// egressGate checks one copy with a gate of its own.
func egressGate(s *site.Site, m *queue.Meta, data []byte, rcpts []string, notice bool, now time.Time) error {
	return (&egress{site: s, now: now}).check(m, data, rcpts, notice)
}

// check passes or refuses one copy of the entry m for rcpts.
func (g *egress) check(m *queue.Meta, data []byte, rcpts []string, notice bool) error {
	if !m.Confidential() || notice {
		return nil
	}
	if err := g.encryptedOnlyTo(data, rcpts); err != nil {
		stats.Add("outgoing", `egress_refused_total{kind="`+safeToken(m.Kind)+`"}`, int64(len(rcpts)))
		return fmt.Errorf("%w: a copy of an entry carrying %s for %s is not sent: %v",
			errEgress, m.Protection(), strings.Join(rcpts, ", "), err)
	}
	return nil
}

// encryptedOnlyTo checks that a message is an encryption to exactly the
// keys on file for rcpts, one key packet or RecipientInfo per recipient.
func (g *egress) encryptedOnlyTo(data []byte, rcpts []string) error {
	if len(rcpts) == 0 {
		return errors.New("no recipient")
	}
	if g.site.Keys == nil {
		return errors.New("no keyring to check the encryption against")
	}
	ent, err := rawmime.Parse(data)
	if err != nil {
		return fmt.Errorf("unreadable message: %v", err)
	}
	mt, params, err := ent.MediaType()
	if err != nil {
		return fmt.Errorf("unreadable Content-Type: %v", err)
	}
	switch mt {
	case "multipart/encrypted":
		if !strings.EqualFold(params["protocol"], "application/pgp-encrypted") {
			return fmt.Errorf("multipart/encrypted of protocol %q", params["protocol"])
		}
		armored, err := pgpMIMEPayload(ent.Body, params["boundary"])
		if err != nil {
			return err
		}
		ids, err := g.pgp.KeyPacketIDs(armored)
		if err != nil {
			return err
		}
		return g.pgpAddressedTo(ids, rcpts)
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		st := strings.ToLower(params["smime-type"])
		if st != "" && st != "enveloped-data" && st != "authenveloped-data" {
			return fmt.Errorf("S/MIME %s, not an encryption", st)
		}
		if cte := strings.ToLower(strings.TrimSpace(ent.Fields.Get("Content-Transfer-Encoding"))); cte != "base64" {
			return fmt.Errorf("S/MIME entity in transfer encoding %q", cte)
		}
		der, err := base64.StdEncoding.DecodeString(string(stripSpace(ent.Body)))
		if err != nil {
			return fmt.Errorf("S/MIME entity: %v", err)
		}
		return g.smimeAddressedTo(der, rcpts)
	}
	return fmt.Errorf("the message is %s, not an encryption", mt)
}

// pgpMIMEPayload returns the armored message of a PGP/MIME body (RFC 3156):
// a version part saying "Version: 1" and an application/octet-stream part,
// with nothing but a fixed preamble and whitespace around them.
func pgpMIMEPayload(body []byte, boundary string) ([]byte, error) {
	parts, err := rawmime.SplitMultipart(body, boundary, 3)
	if err != nil {
		return nil, fmt.Errorf("multipart/encrypted: %v", err)
	}
	if len(parts) != 2 {
		return nil, fmt.Errorf("multipart/encrypted with %d parts", len(parts))
	}
	dash := []byte("--" + boundary)
	pre := body[:bytes.Index(body, dash)]
	switch strings.TrimSpace(string(pre)) {
	case "", "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)":
	default:
		return nil, errors.New("multipart/encrypted with text in its preamble")
	}
	end := bytes.LastIndex(body, append(dash, "--"...))
	if end < 0 || len(bytes.TrimSpace(body[end+len(dash)+2:])) != 0 {
		return nil, errors.New("multipart/encrypted with text after its close delimiter")
	}
	version, err := rawmime.Parse(parts[0])
	if err != nil {
		return nil, fmt.Errorf("version part: %v", err)
	}
	if vt, _, err := version.MediaType(); err != nil || vt != "application/pgp-encrypted" {
		return nil, errors.New("multipart/encrypted without its version part")
	}
	if strings.TrimSpace(string(version.Body)) != "Version: 1" {
		return nil, errors.New("version part holds more than \"Version: 1\"")
	}
	payload, err := rawmime.Parse(parts[1])
	if err != nil {
		return nil, fmt.Errorf("encrypted part: %v", err)
	}
	if pt, _, err := payload.MediaType(); err != nil || pt != "application/octet-stream" {
		return nil, errors.New("multipart/encrypted whose second part is not application/octet-stream")
	}
	if !bytes.HasPrefix(bytes.TrimSpace(payload.Body), []byte("-----BEGIN PGP MESSAGE-----")) {
		return nil, errors.New("encrypted part is not an armored OpenPGP message")
	}
	return payload.Body, nil
}

// pgpAddressedTo checks that key packets ids name exactly rcpts' keys: one
// packet per recipient; a single recipient's names its key (the primary key
// or a subkey of the key on file), a batch's may be hidden (key ID 0, RFC
// 9580 5.1), which the gate can count but not attribute.
func (g *egress) pgpAddressedTo(ids []uint64, rcpts []string) error {
	if len(ids) != len(rcpts) {
		return fmt.Errorf("%d OpenPGP key packets for %d recipients", len(ids), len(rcpts))
	}
	owner := map[uint64]string{}
	for _, r := range rcpts {
		e, err := g.site.Keys.EncryptionPGP(r, g.now)
		if err != nil {
			return fmt.Errorf("no OpenPGP key on file for %s", r)
		}
		for _, id := range pgp.KeyIDs(e) {
			owner[id] = r
		}
	}
	seen := map[string]bool{}
	for _, id := range ids {
		r := owner[id]
		switch {
		case id == 0 && len(rcpts) > 1:
			continue
		case id == 0:
			return errors.New("a hidden key packet for a single recipient")
		case r == "":
			return fmt.Errorf("a key packet for key %016X, which is no recipient's", id)
		case seen[r]:
			return fmt.Errorf("two key packets for %s", r)
		}
		seen[r] = true
	}
	return nil
}

// smimeAddressedTo checks that an envelope's RecipientInfos name exactly
// the certificates on file for rcpts, each once.
func (g *egress) smimeAddressedTo(der []byte, rcpts []string) error {
	certs := make([]*x509.Certificate, len(rcpts))
	for i, r := range rcpts {
		c, err := g.site.Keys.EncryptionCert(r, g.now)
		if err != nil {
			return fmt.Errorf("no S/MIME certificate on file for %s", r)
		}
		certs[i] = c
	}
	named, err := cms.RecipientsNamed(der, certs)
	if err != nil {
		return fmt.Errorf("S/MIME envelope: %v", err)
	}
	if len(named) != len(rcpts) {
		return fmt.Errorf("%d S/MIME recipient infos for %d recipients", len(named), len(rcpts))
	}
	seen := make([]bool, len(rcpts))
	for _, i := range named {
		if i < 0 {
			return errors.New("a recipient info for a certificate that is no recipient's")
		}
		if seen[i] {
			return fmt.Errorf("two recipient infos for %s", rcpts[i])
		}
		seen[i] = true
	}
	return nil
}

// stripSpace drops the whitespace of base64 text.
func stripSpace(b []byte) []byte {
	return bytes.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\r', '\n':
			return -1
		}
		return r
	}, b)
}
