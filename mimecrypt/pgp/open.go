package pgp

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
)

// opener holds what one Open call works with.
type opener struct {
	opts OpenOptions
	cfg  *packet.Config
	ring *ring
	now  time.Time
}

// Open decrypts and verifies an incoming message:
//
//   - RFC 3156 multipart/encrypted at the top level (or as the only content
//     of a multipart/signed wrapper, whose outer signature is then ignored,
//     or mangled by MS Exchange into multipart/mixed), with a signature
//     inside the OpenPGP message (6.2) or a multipart/signed inside (6.1);
//   - RFC 3156 multipart/signed, verified on the canonical (CRLF) bytes of
//     the signed part;
//   - inline PGP in a top-level text/plain body: an encrypted or clear-signed
//     armored block, indented or quoted-printable encoded.
//
// Encrypted parts anywhere else (inside multipart/mixed, for example) are not
// decrypted: re-mailing their plaintext would make the list a decryption
// oracle. Likewise a signature over only part of the message, or an inline
// block with other text around it, is not taken as the message's signature
// or encryption: the Result says so in Reason with VerdictNone/EncNone.
//
// Result.Message is the input unchanged unless the message was decrypted;
// then it is the outer header fields (Content-* fields removed) followed by
// the decrypted entity's Content-* fields and body. A sender's multipart/signed
// inside the encryption is kept as is. Protected headers: when the decrypted
// entity (or, for a multipart/signed inside the encryption, its signed part)
// carries a Subject and either its Content-Type has protected-headers="v1" or
// the outer Subject is a placeholder ("...", "Encrypted Message", "Subject
// Unavailable", empty), the inner Subject replaces the outer one; no other
// protected field is copied out.
//
// The signature verdict requires a From header with exactly one address, to
// which opts.Senders bound the signing key (else signer-mismatch): the user
// IDs of the key do not count. A From field inside the signed entity
// (protected header fields) must name the same address. The
// Date header is not compared with the signature time: real clients (Delta
// Chat) and test suites send Dates days or years away from it. A leading mbox
// "From " line is skipped.
//
// Errors wrap mimecrypt.ErrNoKey, ErrNoIntegrity, ErrTooLarge or
// ErrMalformed. On error the Result, when not nil, says what was found so far
// (Encryption and a Reason a sender may read).
func Open(raw []byte, opts OpenOptions) (*mimecrypt.Result, error) {
	opts = opts.withDefaults()
	o := &opener{opts: opts, cfg: opts.config(), ring: newRing(opts.ListKeys, opts.Senders), now: opts.Now}
	res := &mimecrypt.Result{Encryption: mimecrypt.EncNone, Verdict: mimecrypt.VerdictNone, Message: raw}
	top, err := rawmime.Parse(skipMboxFrom(raw))
	if err != nil {
		res.Reason = "the message header cannot be read"
		return res, fmt.Errorf("parse message: %w", err)
	}
	if err := o.checkBounds(top); err != nil {
		res.Reason = "the message structure is too large or too deeply nested"
		return res, err
	}
	err = o.open(top, res)
	if err != nil && res.Reason == "" {
		res.Reason = reasonFor(err)
	}
	return res, err
}

// reasonFor phrases an Open error for the sender.
func reasonFor(err error) string {
	var uc *UnsupportedCipherError
	switch {
	case errors.As(err, &uc):
		return "the message is encrypted with the cipher " + uc.Cipher + ", which the list does not support; configure your client to use AES"
	case errors.Is(err, mimecrypt.ErrNoKey):
		return "the message is not encrypted to the list's key"
	case errors.Is(err, mimecrypt.ErrNoIntegrity):
		return "the encrypted data has no integrity protection (MDC); please use a current OpenPGP client"
	case errors.Is(err, mimecrypt.ErrTooLarge):
		return "the message exceeds a size, nesting or count limit"
	}
	return "the encrypted or signed content cannot be read"
}

// skipMboxFrom drops a leading mbox "From " line, as local delivery adds.
func skipMboxFrom(raw []byte) []byte {
	if !bytes.HasPrefix(raw, []byte("From ")) {
		return raw
	}
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		return raw[i+1:]
	}
	return raw
}

// checkBounds walks the whole MIME tree once to enforce depth and part
// bounds. Malformed parts are left to the code that uses them.
func (o *opener) checkBounds(e *rawmime.Entity) error {
	err := rawmime.Walk(e, o.opts.MaxDepth, o.opts.MaxParts, func([]int, *rawmime.Entity) error { return nil })
	if errors.Is(err, mimecrypt.ErrTooLarge) {
		return err
	}
	return nil
}

// open dispatches on the top-level media type.
func (o *opener) open(top *rawmime.Entity, res *mimecrypt.Result) error {
	mt, params, err := top.MediaType()
	if err != nil {
		return err
	}
	switch mt {
	case "multipart/encrypted":
		return o.openEncrypted(top, top, params, res)
	case "multipart/signed":
		return o.openSigned(top, params, res)
	case "multipart/mixed":
		if enc, ok := o.exchangeRepair(top); ok {
			return o.openEncrypted(top, enc, nil, res)
		}
		res.Reason = o.nestedReason(top)
		return nil
	case "text/plain":
		return o.openInline(top, res)
	}
	res.Reason = o.nestedReason(top)
	return nil
}

// nestedReason says when a message holds OpenPGP parts below the top level,
// which Open leaves alone.
func (o *opener) nestedReason(top *rawmime.Entity) string {
	var found string
	_ = rawmime.Walk(top, o.opts.MaxDepth, o.opts.MaxParts, func(path []int, p *rawmime.Entity) error {
		if len(path) == 0 {
			return nil
		}
		mt, params, _ := p.MediaType()
		switch {
		case mt == "multipart/encrypted":
			found = "the message holds an encrypted part below its top level, which the list does not decrypt; encrypt the whole message"
		case mt == "multipart/signed" && strings.EqualFold(params["protocol"], "application/pgp-signature") && found == "":
			found = "only part of the message is signed; the signature is not taken as the message's"
		}
		return nil
	})
	return found
}

// exchangeRepair recognises PGP/MIME that MS Exchange turned into
// multipart/mixed[empty text, application/pgp-encrypted, encrypted.asc] and
// returns the part holding the ciphertext.
func (o *opener) exchangeRepair(top *rawmime.Entity) (*rawmime.Entity, bool) {
	_, params, _ := top.MediaType()
	parts, err := rawmime.SplitMultipart(top.Body, params["boundary"], o.opts.MaxParts)
	if (err != nil && !errors.Is(err, rawmime.ErrTruncated)) || len(parts) != 3 {
		return nil, false
	}
	var es [3]*rawmime.Entity
	for i, p := range parts {
		if es[i], err = rawmime.Parse(p); err != nil {
			return nil, false
		}
	}
	mt0, _, _ := es[0].MediaType()
	mt1, _, _ := es[1].MediaType()
	mt2, _, _ := es[2].MediaType()
	body0, _ := decodeBody(es[0], 1<<10)
	if mt0 != "text/plain" || len(bytes.TrimSpace(body0)) != 0 || mt1 != "application/pgp-encrypted" || mt2 != "application/octet-stream" {
		return nil, false
	}
	return es[2], true
}

// openSigned verifies a top-level multipart/signed. When its signed part is
// a multipart/encrypted, the outer signature is ignored (it covers only
// ciphertext) and the encrypted part is opened instead.
func (o *opener) openSigned(top *rawmime.Entity, params map[string]string, res *mimecrypt.Result) error {
	parts, err := rawmime.SplitMultipart(top.Body, params["boundary"], o.opts.MaxParts)
	if err != nil {
		return fmt.Errorf("split multipart/signed: %w", err)
	}
	if len(parts) >= 1 {
		inner, err := rawmime.Parse(parts[0])
		if err != nil {
			return fmt.Errorf("signed part: %w", err)
		}
		if mt, ip, _ := inner.MediaType(); mt == "multipart/encrypted" {
			err := o.openEncrypted(top, inner, ip, res)
			if err == nil && res.Verdict == mimecrypt.VerdictNone {
				res.Reason = "the signature around the encrypted part was ignored: it covers only ciphertext"
			}
			return err
		}
	}
	if !strings.EqualFold(params["protocol"], "application/pgp-signature") {
		return nil // S/MIME or unknown: not ours
	}
	chk := o.verifySignedParts(parts)
	if len(parts) == 2 {
		chk = bindSigned(chk, top.Fields.Values("From"), parts[0])
	} else {
		chk = bindFrom(chk, top.Fields.Values("From"))
	}
	setVerdict(res, chk)
	return nil
}

// verifySignedParts checks the two parts of a PGP/MIME multipart/signed body.
func (o *opener) verifySignedParts(parts [][]byte) sigCheck {
	if len(parts) != 2 {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: fmt.Sprintf("a signed message must have 2 parts, this one has %d", len(parts))}
	}
	sigPart, err := rawmime.Parse(parts[1])
	if err != nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signature part cannot be read"}
	}
	if mt, _, _ := sigPart.MediaType(); mt != "application/pgp-signature" {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the second part is " + mt + ", not application/pgp-signature"}
	}
	sig, err := decodeBody(sigPart, 1<<20)
	if err != nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signature part cannot be decoded"}
	}
	return o.verifyDetached(rawmime.Canonical(parts[0]), sig)
}

// setVerdict records a signature check on the result.
func setVerdict(res *mimecrypt.Result, chk sigCheck) {
	res.Verdict = chk.verdict
	res.Reason = chk.reason
	res.SignerFingerprint = chk.fingerprint
	res.SignerAddresses = chk.addresses
	res.SignatureID, res.SignatureTime = chk.id, chk.created
}

// openEncrypted decrypts a PGP/MIME multipart/encrypted entity enc (params
// nil for a repaired Exchange part, which is the ciphertext part itself) and
// verifies what it holds. top provides the outer header fields.
func (o *opener) openEncrypted(top, enc *rawmime.Entity, params map[string]string, res *mimecrypt.Result) error {
	res.Encryption = mimecrypt.EncPGPMIME
	cipherPart := enc
	if params != nil {
		if !strings.EqualFold(strings.TrimSpace(params["protocol"]), "application/pgp-encrypted") {
			res.Reason = "the multipart/encrypted protocol parameter is not application/pgp-encrypted"
			return fmt.Errorf("multipart/encrypted with protocol %q: %w", params["protocol"], mimecrypt.ErrMalformed)
		}
		parts, err := rawmime.SplitMultipart(enc.Body, params["boundary"], o.opts.MaxParts)
		if err != nil {
			return fmt.Errorf("split multipart/encrypted: %w", err)
		}
		if len(parts) != 2 {
			return fmt.Errorf("multipart/encrypted has %d parts, not 2: %w", len(parts), mimecrypt.ErrMalformed)
		}
		ctl, err := rawmime.Parse(parts[0])
		if err != nil {
			return fmt.Errorf("control part: %w", err)
		}
		if mt, _, _ := ctl.MediaType(); mt != "application/pgp-encrypted" {
			return fmt.Errorf("first part of multipart/encrypted is %s: %w", mt, mimecrypt.ErrMalformed)
		}
		if cipherPart, err = rawmime.Parse(parts[1]); err != nil {
			return fmt.Errorf("encrypted part: %w", err)
		}
	}
	data, err := decodeBody(cipherPart, int64(len(cipherPart.Body)))
	if err != nil {
		return err
	}
	d, err := o.decrypt(data, mergeFront(top))
	if err != nil {
		return err
	}
	inner, err := rawmime.Parse(d.plain)
	if err != nil {
		return fmt.Errorf("decrypted entity: %w", err)
	}
	if err := o.checkBounds(inner); err != nil {
		return err
	}
	from := top.Fields.Values("From")
	switch mt, ip, _ := inner.MediaType(); {
	case d.signed:
		setVerdict(res, bindSigned(d.sig, from, d.plain))
	case mt == "multipart/signed" && strings.EqualFold(ip["protocol"], "application/pgp-signature"):
		parts, err := rawmime.SplitMultipart(inner.Body, ip["boundary"], o.opts.MaxParts)
		if err != nil {
			setVerdict(res, sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signed part inside the encryption cannot be split"})
		} else {
			chk := o.verifySignedParts(parts)
			if len(parts) == 2 {
				chk = bindSigned(chk, from, parts[0])
			} else {
				chk = bindFrom(chk, from)
			}
			setVerdict(res, chk)
		}
	}
	if d.signed && (res.Verdict == mimecrypt.VerdictGood ||
		res.Verdict == mimecrypt.VerdictUnknownKey && o.opts.KeepUnknownSignature) {
		// The sender's signature was made inside the encryption (RFC 3156
		// 6.2 combined form): keep it for the subscribers as the layered
		// form (6.1), multipart/signed around the decrypted entity, when
		// the signature still verifies there.
		if k, ok := keepSignature(d.plain, d.sig.sig); ok {
			res.Message = mergeDecrypted(d, top, k.signed, k.header, k.body, 1)
			return nil
		}
	}
	res.Message = mergeDecrypted(d, top, inner, inner, [][]byte{inner.Body}, 0)
	return nil
}

// mergeFront is the room decrypt leaves in front of the plaintext of an
// encrypted message with the outer header of top: enough for the merged
// header (the outer fields, each line perhaps given a CR, the protected
// Subject and the inner Content-* fields, which mostly come out of the
// room the inner header takes already) or keepSignature's header and
// preamble, in all but odd cases, which mergeDecrypted copies instead.
func mergeFront(top *rawmime.Entity) int {
	return 2*len(top.Header) + 4<<10
}

// mergeDecrypted builds the opened message as mergeParts does, over the
// buffer d was decrypted into when body[big] (the piece holding the post,
// which ends the buffer: the inner entity's body or keepSignature's
// canonical copy when that is the plaintext itself) lies there
// (mergeOver), else as a copy. d must not be read after.
func mergeDecrypted(d *decrypted, top, protected, fields *rawmime.Entity, body [][]byte, big int) []byte {
	if m, ok := mergeOver(d.buf, len(d.buf)-len(body[big]), top, protected, fields, body, big); ok {
		d.plain, d.buf = nil, nil
		return m
	}
	return mergeParts(top, protected, fields, body...)
}

// kept is the multipart/signed entity keepSignature makes, in pieces, so
// that the opened message is written from them at once (mergeParts): a
// large post is not copied into the entity and then again into the
// message.
type kept struct {
	// signed is the signed part (the canonical form of the decrypted
	// entity), where the protected Subject is.
	signed *rawmime.Entity
	// header is the multipart/signed entity's header (its Content-Type
	// field) with an empty body.
	header *rawmime.Entity
	// body is its body: the preamble and first delimiter, the signed
	// part, then the signature part and the closing delimiter.
	body [][]byte
}

// keepSignature wraps plain (a MIME entity that was signed inside an
// encrypted message) and its signature as multipart/signed, in pieces
// (kept). A text-mode signature covers the CRLF-canonical form, which
// multipart/signed verifies; a binary one only when plain already uses CRLF
// line endings throughout.
func keepSignature(plain []byte, sig *packet.Signature) (kept, bool) {
	if sig == nil {
		return kept{}, false
	}
	canon := rawmime.Canonical(plain)
	switch sig.SigType {
	case packet.SigTypeText:
	case packet.SigTypeBinary:
		if !bytes.Equal(canon, plain) {
			return kept{}, false
		}
	default:
		return kept{}, false
	}
	signed, err := rawmime.Parse(canon)
	if err != nil {
		return kept{}, false
	}
	var sigArmor bytes.Buffer
	w, err := armor.Encode(&sigArmor, "PGP SIGNATURE", nil)
	if err != nil {
		return kept{}, false
	}
	if err := sig.Serialize(w); err != nil {
		return kept{}, false
	}
	w.Close()
	micalg := "pgp-" + strings.ToLower(strings.ReplaceAll(sig.Hash.String(), "-", ""))
	boundary := "=_cloister_kept_" + fmt.Sprintf("%x", sig.CreationTime.UnixNano())
	header, err := rawmime.Parse(fmt.Appendf(nil, "Content-Type: multipart/signed; micalg=%s;\r\n protocol=\"application/pgp-signature\";\r\n boundary=\"%s\"\r\n\r\n", micalg, boundary))
	if err != nil {
		return kept{}, false
	}
	pre := fmt.Appendf(nil, "This is an OpenPGP/MIME signed message (RFC 4880 and 3156)\r\n--%s\r\n", boundary)
	// The CRLF that starts post belongs to the delimiter, not to the signed part.
	var post bytes.Buffer
	fmt.Fprintf(&post, "\r\n--%s\r\nContent-Type: application/pgp-signature; name=\"signature.asc\"\r\n"+
		"Content-Description: OpenPGP digital signature\r\nContent-Disposition: attachment; filename=\"signature.asc\"\r\n\r\n", boundary)
	post.Write(bytes.ReplaceAll(sigArmor.Bytes(), []byte("\n"), []byte("\r\n")))
	fmt.Fprintf(&post, "\r\n--%s--\r\n", boundary)
	return kept{signed: signed, header: header, body: [][]byte{pre, canon, post.Bytes()}}, true
}

// openInline handles a top-level text/plain body holding an inline PGP block.
func (o *opener) openInline(top *rawmime.Entity, res *mimecrypt.Result) error {
	text, err := decodeBody(top, int64(len(top.Body)))
	if err != nil {
		return err
	}
	blk, ok := findInline(text)
	if !ok {
		return nil
	}
	if !blk.alone {
		if blk.kind == beginMessage {
			res.Reason = "only part of the message is encrypted; the list does not decrypt it"
		} else {
			res.Reason = "only part of the message is signed; the signature is not taken as the message's"
		}
		return nil
	}
	from := top.Fields.Values("From")
	if blk.kind == beginSigned {
		setVerdict(res, bindFrom(o.verifyClearsigned(blk.armor), from))
		return nil
	}
	res.Encryption = mimecrypt.EncPGPInline
	front := mergeFront(top)
	d, err := o.decrypt(blk.armor, front)
	if errors.Is(err, errSignedOnly) {
		// Inline-signed: the message stays as it came, signature and all.
		res.Encryption = mimecrypt.EncNone
		setVerdict(res, bindFrom(o.verifySigned(blk.armor), from))
		return nil
	}
	if err != nil {
		return err
	}
	// plain is buf[at:], the text the opened message carries.
	plain, buf, at := d.plain, d.buf, front
	if d.signed {
		setVerdict(res, bindFrom(d.sig, from))
		if res.Verdict == mimecrypt.VerdictGood {
			// Keep the sender's signature for the subscribers, as
			// keepSignature does for PGP/MIME.
			if kept, kat, ok := keepInlineSignature(plain, d, front); ok {
				plain, buf, at = kept[kat:], kept, kat
			}
		}
	} else if cb, ok := findInline(plain); ok && cb.kind == beginSigned && cb.alone {
		setVerdict(res, bindFrom(o.verifyClearsigned(cb.armor), from))
	}
	res.Message = mergeTextOver(buf, at, top, plain)
	return nil
}

// verifyClearsigned checks a clear-signed block (RFC 9580 7).
func (o *opener) verifyClearsigned(armored []byte) sigCheck {
	b, _ := clearsign.Decode(armored)
	if b == nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the clear-signed block cannot be read"}
	}
	var sig bytes.Buffer
	if _, err := sig.ReadFrom(b.ArmoredSignature.Body); err != nil {
		return sigCheck{verdict: mimecrypt.VerdictBad, reason: "the signature block cannot be read"}
	}
	return o.verifyDetached(b.Bytes, sig.Bytes())
}
