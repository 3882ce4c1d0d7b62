package ownmail

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"mime"
	"strings"
	"sync"
	"time"

	"cloister/internal/site"
	"cloister/internal/stats"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt/cms"
	"cloister/mimecrypt/pgp"
	"cloister/queue"
)

// ErrRefused wraps every refusal of the gate.
var ErrRefused = errors.New("egress gate")

// Gate is the last step before a copy of an entry is handed to the MTA.
// A copy of an entry that carries content of an encrypted post (its
// recorded queue.Meta.Carries, never its bytes) must be an encryption,
// PGP/MIME multipart/encrypted or S/MIME enveloped or authEnveloped data,
// addressed to exactly the keys on file for the copy's recipients and to no
// one else; the content-free notice the distributor writes for a recipient
// without a key is the one other thing that may go. Anything else is
// refused with the reason and counted (egress_refused_total), and must
// never be sent: the caller parks the refused recipients in bad. Use one
// Gate for the copies of one entry: they share their encrypted data, which
// it walks once (pgp.Checker). A Gate is safe for concurrent use: the
// outgoing runner checks an entry's copies on several SMTP sessions at
// once, and the walker they share is locked.
type Gate struct {
	Keys site.Keys  // the keyring the copies are checked against
	Now  time.Time  // the time the copies were made for
	mu   sync.Mutex // guards pgp, which is not safe for concurrent use
	pgp  pgp.Checker
	bufs sync.Pool // *[]byte: the decoded S/MIME envelopes, one per session at a time
}

// decodeBuffer returns a buffer of at least n bytes for a decoded S/MIME
// envelope: the copies of an entry are of one size, so each session
// decodes every copy into the same buffer. Put it back in g.bufs.
func (g *Gate) decodeBuffer(n int) *[]byte {
	if b, ok := g.bufs.Get().(*[]byte); ok && cap(*b) >= n {
		return b
	}
	b := make([]byte, 0, n)
	return &b
}

// Check passes or refuses one copy of the entry m for rcpts; notice tells
// that the copy is the distributor's content-free notice for a recipient
// without a key.
func (g *Gate) Check(m *queue.Meta, data []byte, rcpts []string, notice bool) error {
	return g.judge(m, rcpts, notice, func() error { return g.encryptedOnlyTo(data, rcpts) })
}

// judge is the gate's verdict on one copy of the entry m for rcpts, which
// encrypted reads (Check's from the copy held whole, CheckStream's from
// the copy as it is read): a copy that carries nothing of an encrypted
// post, or is the distributor's notice, passes unread; a refusal is
// counted and wraps ErrRefused.
func (g *Gate) judge(m *queue.Meta, rcpts []string, notice bool, encrypted func() error) error {
	if !m.Confidential() || notice {
		return nil
	}
	var err error
	switch {
	case len(rcpts) == 0:
		err = errors.New("no recipient")
	case g.Keys == nil:
		err = errors.New("no keyring to check the encryption against")
	default:
		err = encrypted()
	}
	if err != nil {
		stats.Add("outgoing", `egress_refused_total{kind="`+label(m.Kind)+`"}`, int64(len(rcpts)))
		return fmt.Errorf("%w: a copy of an entry carrying %s for %s is not sent: %v",
			ErrRefused, m.Protection(), strings.Join(rcpts, ", "), err)
	}
	return nil
}

// label keeps the letters, digits and hyphens of a metric label value.
func label(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' {
			return r
		}
		return -1
	}, strings.ToLower(s))
}

// encryptedOnlyTo checks that a message is an encryption to exactly the
// keys on file for rcpts, one key packet or RecipientInfo per recipient.
func (g *Gate) encryptedOnlyTo(data []byte, rcpts []string) error {
	ctype, cte, body, err := topFields(data)
	if err != nil {
		return err
	}
	boundary, smime, err := encryptionKind(ctype, cte)
	if err != nil {
		return err
	}
	if !smime {
		armored, err := pgpMIMEPayload(body, boundary)
		if err != nil {
			return err
		}
		g.mu.Lock()
		ids, err := g.pgp.KeyPacketIDs(armored)
		g.mu.Unlock()
		if err != nil {
			return err
		}
		return g.pgpAddressedTo(ids, rcpts)
	}
	buf := g.decodeBuffer(base64.StdEncoding.DecodedLen(len(body)))
	defer g.bufs.Put(buf)
	der, err := decodeBase64((*buf)[:0], body)
	if err != nil {
		return fmt.Errorf("S/MIME entity: %v", err)
	}
	return g.smimeAddressedTo(der, rcpts)
}

// encryptionKind reads a copy's Content-Type and Content-Transfer-Encoding:
// PGP/MIME (multipart/encrypted of protocol application/pgp-encrypted),
// with its boundary, or S/MIME enveloped or authEnveloped data in base64;
// anything else is an error.
func encryptionKind(ctype, cte string) (boundary string, smime bool, err error) {
	mt, params, err := mime.ParseMediaType(ctype)
	if err != nil {
		return "", false, fmt.Errorf("unreadable Content-Type: %v", err)
	}
	switch mt = strings.ToLower(mt); mt {
	case "multipart/encrypted":
		if !strings.EqualFold(params["protocol"], "application/pgp-encrypted") {
			return "", false, fmt.Errorf("multipart/encrypted of protocol %q", params["protocol"])
		}
		return params["boundary"], false, nil
	case "application/pkcs7-mime", "application/x-pkcs7-mime":
		st := strings.ToLower(params["smime-type"])
		if st != "" && st != "enveloped-data" && st != "authenveloped-data" {
			return "", false, fmt.Errorf("S/MIME %s, not an encryption", st)
		}
		if cte = strings.ToLower(strings.TrimSpace(cte)); cte != "base64" {
			return "", false, fmt.Errorf("S/MIME entity in transfer encoding %q", cte)
		}
		return "", true, nil
	}
	return "", false, fmt.Errorf("the message is %s, not an encryption", mt)
}

// topFields returns the Content-Type and Content-Transfer-Encoding fields
// of a message's header (unfolded) and its body. A header that holds either
// field twice is refused: clients would not agree on which one counts.
func topFields(data []byte) (ctype, cte string, body []byte, err error) {
	var h headerFields
	for i := 0; ; {
		if i >= len(data) || i > rawmime.MaxHeaderBytes {
			return "", "", nil, errors.New("message without a body, or with an oversized header")
		}
		j := bytes.IndexByte(data[i:], '\n')
		if j < 0 {
			return "", "", nil, errors.New("message without a body")
		}
		line := data[i : i+j]
		i += j + 1
		if end, err := h.line(line); end || err != nil {
			return h.ctype, h.cte, data[i:], err
		}
	}
}

// headerFields gathers the Content-Type and Content-Transfer-Encoding
// fields of a header section (unfolded) as its lines come: topFields reads
// them from a copy held whole, readFields from a copy read a line at a
// time.
type headerFields struct {
	ctype, cte        string
	cur               *string // the field a continuation line belongs to
	seenType, seenCTE bool
}

// line takes one line of the header without its LF; it tells whether the
// line was the blank one that ends the header. A header that holds either
// field twice is refused: clients would not agree on which one counts.
func (h *headerFields) line(l []byte) (bool, error) {
	line := bytes.TrimRight(l, "\r")
	switch {
	case len(line) == 0:
		if !h.seenType {
			return true, errors.New("message without a Content-Type")
		}
		return true, nil
	case line[0] == ' ' || line[0] == '\t':
		if h.cur != nil {
			*h.cur += string(line)
		}
		return false, nil
	}
	name, value, ok := bytes.Cut(line, []byte(":"))
	if !ok {
		return false, errors.New("malformed header line")
	}
	h.cur = nil
	switch {
	case bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Type")):
		if h.seenType {
			return false, errors.New("two Content-Type fields")
		}
		h.seenType, h.ctype, h.cur = true, string(value), &h.ctype
	case bytes.EqualFold(bytes.TrimSpace(name), []byte("Content-Transfer-Encoding")):
		if h.seenCTE {
			return false, errors.New("two Content-Transfer-Encoding fields")
		}
		h.seenCTE, h.cte, h.cur = true, string(value), &h.cte
	}
	return false, nil
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
	// The body must be exactly the two parts between their delimiters:
	// nothing in the preamble but the usual sentence, nothing after the
	// close delimiter, and no part that SplitMultipart did not return.
	trimmed := bytes.TrimRight(body, " \t\r\n")
	var pre []byte
	ok := false
	for _, nl := range []string{"\r\n", "\n"} {
		rest := trimmed
		cut := func(suffix []byte) bool {
			if !bytes.HasSuffix(rest, suffix) {
				return false
			}
			rest = rest[:len(rest)-len(suffix)]
			return true
		}
		if cut([]byte("--"+boundary+"--")) && cut([]byte(nl)) && cut(parts[1]) && cut([]byte(nl+"--"+boundary+nl)) &&
			cut(parts[0]) && cut([]byte("--"+boundary+nl)) {
			pre, ok = rest, true
			break
		}
	}
	if !ok {
		return nil, errors.New("multipart/encrypted with text outside its two parts")
	}
	switch strings.TrimSpace(string(pre)) {
	case "", "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)":
	default:
		return nil, errors.New("multipart/encrypted with text in its preamble")
	}
	vt, _, version, err := topFields(parts[0])
	if err != nil {
		return nil, fmt.Errorf("version part: %v", err)
	}
	if mt, _, err := mime.ParseMediaType(vt); err != nil || !strings.EqualFold(mt, "application/pgp-encrypted") {
		return nil, errors.New("multipart/encrypted without its version part")
	}
	if strings.TrimSpace(string(version)) != "Version: 1" {
		return nil, errors.New("version part holds more than \"Version: 1\"")
	}
	pt, _, payload, err := topFields(parts[1])
	if err != nil {
		return nil, fmt.Errorf("encrypted part: %v", err)
	}
	if mt, _, err := mime.ParseMediaType(pt); err != nil || !strings.EqualFold(mt, "application/octet-stream") {
		return nil, errors.New("multipart/encrypted whose second part is not application/octet-stream")
	}
	if !bytes.HasPrefix(bytes.TrimSpace(payload), []byte("-----BEGIN PGP MESSAGE-----")) {
		return nil, errors.New("encrypted part is not an armored OpenPGP message")
	}
	return payload, nil
}

// pgpAddressedTo checks that key packets ids name exactly rcpts' keys: one
// packet per recipient; a single recipient's names its key (the primary key
// or a subkey of the key on file). A batch's are either all hidden (key ID
// 0, RFC 9580 5.1; a list with hidden_recipients), which the gate can count
// but not attribute, or all visible, each naming a different recipient's
// key; a mix is refused.
func (g *Gate) pgpAddressedTo(ids []uint64, rcpts []string) error {
	if len(ids) != len(rcpts) {
		return fmt.Errorf("%d OpenPGP key packets for %d recipients", len(ids), len(rcpts))
	}
	owner := map[uint64]string{}
	for _, r := range rcpts {
		e, err := g.Keys.EncryptionPGP(r, g.Now)
		if err != nil {
			return fmt.Errorf("no OpenPGP key on file for %s", r)
		}
		for _, id := range pgp.KeyIDs(e) {
			owner[id] = r
		}
	}
	seen := map[string]bool{}
	hidden := 0
	for _, id := range ids {
		if id == 0 {
			hidden++
		}
	}
	if hidden > 0 && hidden < len(ids) {
		return fmt.Errorf("%d of %d OpenPGP key packets hidden: a batch's are all hidden or all visible", hidden, len(ids))
	}
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
func (g *Gate) smimeAddressedTo(der []byte, rcpts []string) error {
	certs := make([]*x509.Certificate, len(rcpts))
	for i, r := range rcpts {
		c, err := g.Keys.EncryptionCert(r, g.Now)
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

// decodeBase64 appends to dst the decoding of base64 text with line breaks
// (and, rarely, spaces or tabs) anywhere, as StdEncoding.DecodeString of
// the text without its whitespace does: padding only at the end, nothing
// but base64 characters. It reads the text in place, as the decoder skips
// CR and LF itself; only text holding spaces or tabs is copied without them
// first. dst should have room for DecodedLen(len(text)) bytes.
func decodeBase64(dst, text []byte) ([]byte, error) {
	if bytes.IndexByte(text, ' ') >= 0 || bytes.IndexByte(text, '\t') >= 0 {
		text = bytes.Map(func(r rune) rune {
			switch r {
			case ' ', '\t', '\r', '\n':
				return -1
			}
			return r
		}, text)
	}
	if need := base64.StdEncoding.DecodedLen(len(text)); cap(dst)-len(dst) < need {
		dst = append(make([]byte, 0, len(dst)+need), dst...)
	}
	n, err := base64.StdEncoding.Decode(dst[len(dst):cap(dst)], text)
	if err != nil {
		return nil, err
	}
	return dst[:len(dst)+n], nil
}
