package smime

import (
	"bytes"
	"errors"
	"fmt"
	"net/mail"
	"strings"

	"github.com/smallstep/pkcs7"

	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
	"cloister/mimecrypt/cms"
)

// Open decrypts and verifies an incoming message. It unwraps, from the top of
// the message down, at most MaxLayers S/MIME layers: application/pkcs7-mime
// enveloped-data or authEnveloped-data (decrypted with opts.Cert and opts.Key),
// opaque signed-data, and multipart/signed with an application/pkcs7-signature
// (verified on the canonical bytes of the signed part). S/MIME parts below a
// multipart/mixed or /alternative are left alone: a list must not decrypt or
// vouch for part of a message (decryption oracles, added footers).
//
// Message keeps the signatures: a multipart/signed, and opaque signed-data
// whose signature is good, stay as they came, inside any decrypted layer;
// opaque signed-data with any other verdict is replaced by its content.
//
// The verdict is that of the outermost signature inside the innermost
// encryption; a bad signature in any deeper layer makes it bad. A signature
// around an encryption covers only ciphertext, which anyone who captured it
// can sign, so it is ignored. A good verdict needs the signer's certificate
// to carry the single From address and to be bound to it (see
// OpenOptions.Bindings); SignerAddresses is then that address alone.
// Problems with signatures are verdicts, not errors. Errors (wrapping
// mimecrypt.ErrNoKey, ErrTooLarge or ErrMalformed) mean the message could
// not be opened; the Result returned with them still says what was found,
// with a Reason safe to show the sender.
func Open(raw []byte, opts OpenOptions) (*mimecrypt.Result, error) {
	res := &mimecrypt.Result{Encryption: mimecrypt.EncNone, Verdict: mimecrypt.VerdictNone, Message: raw}
	if len(raw) > MaxMessageSize {
		res.Reason = "the message is too large"
		return res, fmt.Errorf("open: %d bytes (limit %d): %w", len(raw), MaxMessageSize, mimecrypt.ErrTooLarge)
	}
	top, err := rawmime.Parse(raw)
	if err != nil {
		res.Reason = "the message header cannot be parsed"
		return res, fmt.Errorf("open: %w", err)
	}
	from := fromAddresses(top)
	date := top.Fields.Get("Date")

	var sigs []*signature
	cur, content := top, top // cur: the entity being examined; content: what Message carries
	changed := false
	// over is the buffer the innermost envelope was decoded and decrypted
	// in (decodeWithRoom, cms.DecryptInPlace), room left in front, for the
	// opened message to be written over (assembleOpened); nil when the
	// envelope's body was not decoded into a buffer of its own.
	var over []byte
	var malleablePlain []byte // the plaintext of the innermost CBC layer
	malleableFrom := 0        // 1 + the index in sigs of the first signature inside the innermost CBC layer; 0: none
	ignored := false          // a signature around an encryption was dropped
	finish := func() (*mimecrypt.Result, error) {
		applySignatures(res, sigs)
		if malleableFrom > 0 {
			res.Malleable = true
			for _, s := range sigs[malleableFrom-1:] {
				if s.verdict == mimecrypt.VerdictGood {
					res.Malleable = false
				}
			}
			if res.Verdict != mimecrypt.VerdictGood || !tight(malleablePlain) {
				res.Malleable = true
			}
		}
		if res.Verdict == mimecrypt.VerdictNone && res.Reason == "" && ignored {
			res.Reason = "the signature around the encrypted part was ignored: it covers only ciphertext"
		}
		if res.Verdict == mimecrypt.VerdictNone && res.Reason == "" && hasSMIMEChild(cur) {
			res.Reason = "only part of the message is signed or encrypted with S/MIME; the list judges whole messages"
		}
		if changed {
			if over != nil {
				// A certificate read from inside the plaintext (an
				// opaque signature in binary) must outlive the buffer.
				res.SignerCert = bytes.Clone(res.SignerCert)
			}
			res.Message = assembleOpened(over, top, content)
		}
		return res, nil
	}
	for layer := 0; ; layer++ {
		mt, params, err := cur.MediaType()
		if err != nil {
			return finish()
		}
		switch {
		case mt == "application/pkcs7-mime" || mt == "application/x-pkcs7-mime":
			if layer >= MaxLayers {
				res.Reason = "the message has too many S/MIME layers"
				return res, fmt.Errorf("open: more than %d S/MIME layers: %w", MaxLayers, mimecrypt.ErrTooLarge)
			}
			der, room, err := decodeWithRoom(cur, assembleFront(top))
			if err != nil {
				res.Reason = "the S/MIME part cannot be decoded"
				return res, fmt.Errorf("open: %w: %w", mimecrypt.ErrMalformed, err)
			}
			kind := strings.ToLower(params["smime-type"])
			if kind == "" {
				kind = kindOf(der)
			}
			switch kind {
			case "enveloped-data", "authenveloped-data":
				res.Encryption = mimecrypt.EncSMIME
				// A signature found so far covers only this ciphertext,
				// which whoever captured it can sign anew: it says nothing
				// of the plaintext, and is ignored (as for OpenPGP).
				ignored = ignored || len(sigs) > 0
				sigs = sigs[:0]
				// What the DER is decides, not the smime-type parameter.
				if kindOf(der) != "authenveloped-data" {
					malleableFrom = len(sigs) + 1 // the signatures found from here on are inside
					if opts.RequireAEAD {
						res.Reason = "the message is encrypted without integrity protection (enveloped-data); the list accepts only authEnveloped-data (AES-GCM)"
						return res, fmt.Errorf("open: enveloped-data refused: %w", mimecrypt.ErrNoIntegrity)
					}
				}
				// The DER is decrypted where it lies when it was decoded
				// into a buffer of Open's own; a body in binary is raw's.
				plain, err := opts.decrypt(der, room != nil)
				if err != nil {
					res.Reason = decryptReason(err)
					return res, fmt.Errorf("open: %w", err)
				}
				over = room
				if malleableFrom == len(sigs)+1 {
					malleablePlain = plain
				}
				if cur, err = parseContent(plain); err != nil {
					res.Reason = "the decrypted content is not a MIME entity"
					return res, fmt.Errorf("open: decrypted content: %w", err)
				}
				content, changed = cur, true
			case "signed-data":
				sig := opts.verify(der, nil, from, date)
				sigs = append(sigs, sig)
				if sig.content == nil {
					return finish()
				}
				inner, err := parseContent(sig.content)
				if err != nil {
					return finish()
				}
				// A good opaque signature is kept, as a multipart/signed
				// is: the copies carry the author's signature end to end.
				// Any other is unwrapped, so that a moderator reads the post.
				if sig.verdict != mimecrypt.VerdictGood {
					content, changed = inner, true
				}
				cur = inner
			default: // certs-only, compressed-data, unknown
				return finish()
			}
		case mt == "multipart/signed" && isPKCS7Signature(params["protocol"]):
			if layer >= MaxLayers {
				res.Reason = "the message has too many S/MIME layers"
				return res, fmt.Errorf("open: more than %d S/MIME layers: %w", MaxLayers, mimecrypt.ErrTooLarge)
			}
			parts, err := rawmime.SplitMultipart(cur.Body, params["boundary"], maxSignedParts)
			if err != nil || len(parts) != 2 {
				sigs = append(sigs, bad("the multipart/signed message does not have exactly two parts"))
				return finish()
			}
			sigPart, err := rawmime.Parse(parts[1])
			if err != nil {
				sigs = append(sigs, bad("the signature part cannot be parsed"))
				return finish()
			}
			der, err := decodeBody(sigPart)
			if err != nil {
				sigs = append(sigs, bad("the signature part cannot be decoded"))
				return finish()
			}
			sigs = append(sigs, opts.verify(der, rawmime.Canonical(parts[0]), from, date))
			if cur, err = rawmime.Parse(parts[0]); err != nil {
				return finish()
			}
		default:
			return finish()
		}
	}
}

// parseContent parses the content of an envelope or opaque signature. Content
// that does not start with header fields (openssl -binary of a text file) is
// read as a body without header: text/plain.
func parseContent(b []byte) (*rawmime.Entity, error) {
	e, err := rawmime.Parse(b)
	if err == nil {
		return e, nil
	}
	return rawmime.Parse(append([]byte("\r\n"), b...))
}

// decrypt opens an envelope with the list's key; inPlace, over the DER
// (cms.DecryptInPlace), which the caller then reads no more.
func (o *OpenOptions) decrypt(der []byte, inPlace bool) ([]byte, error) {
	if o.Cert == nil || o.Key == nil {
		return nil, fmt.Errorf("decrypt: no list certificate: %w", mimecrypt.ErrNoKey)
	}
	decrypt := cms.Decrypt
	if inPlace {
		decrypt = cms.DecryptInPlace
	}
	d, err := decrypt(der, o.Cert, o.Key)
	switch {
	case err == nil:
		if !d.ContentType.Equal(cms.OIDData) {
			return nil, fmt.Errorf("decrypt: content type %v: %w", d.ContentType, mimecrypt.ErrMalformed)
		}
		return d.Content, nil
	case errors.Is(err, cms.ErrNoRecipient):
		return nil, fmt.Errorf("decrypt: %w", mimecrypt.ErrNoKey)
	case errors.Is(err, cms.ErrTooLarge):
		return nil, fmt.Errorf("decrypt: %w: %w", mimecrypt.ErrTooLarge, err)
	}
	return nil, fmt.Errorf("decrypt: %w: %w", mimecrypt.ErrMalformed, err)
}

// decryptReason words a decryption failure for the sender.
func decryptReason(err error) string {
	switch {
	case errors.Is(err, mimecrypt.ErrNoKey):
		return "the message is not encrypted to this list's certificate"
	case errors.Is(err, mimecrypt.ErrTooLarge):
		return "the encrypted message exceeds a size or nesting limit"
	case errors.Is(err, cms.ErrUnsupported):
		return "the message is encrypted with an algorithm this list does not support"
	}
	return "the encrypted message cannot be decrypted"
}

// applySignatures sets the verdict from the signature layers, outermost first.
func applySignatures(res *mimecrypt.Result, sigs []*signature) {
	if len(sigs) == 0 {
		return
	}
	first := sigs[0]
	res.Verdict, res.Reason = first.verdict, first.reason
	for _, s := range sigs[1:] {
		if s.verdict == mimecrypt.VerdictBad && first.verdict != mimecrypt.VerdictBad {
			res.Verdict, res.Reason = mimecrypt.VerdictBad, "an inner signature is not valid: "+s.reason
			break
		}
	}
	if first.cert != nil {
		res.SignerCert = first.cert.Raw
		res.SignerFingerprint = fingerprint(first.cert)
		if res.Verdict == mimecrypt.VerdictGood {
			// Bound to From: on file for it, or first contact.
			res.SignerAddresses = []string{first.from}
		}
		res.SignatureID, res.SignatureTime = first.id, first.signed
	}
}

// kindOf names the CMS content type of an application/pkcs7-mime body that
// lacks an smime-type parameter.
func kindOf(der []byte) string {
	oid, err := cms.ContentType(der)
	switch {
	case err != nil:
		return ""
	case oid.Equal(cms.OIDEnvelopedData):
		return "enveloped-data"
	case oid.Equal(cms.OIDAuthEnvelopedData):
		return "authenveloped-data"
	case oid.Equal(cms.OIDSignedData):
		return "signed-data"
	}
	return ""
}

// hasSMIMEChild reports whether a multipart entity has a direct child that is
// S/MIME signed or encrypted (a list footer added around a signed post, or a
// decryption-oracle shape).
func hasSMIMEChild(e *rawmime.Entity) bool {
	mt, params, err := e.MediaType()
	if err != nil || !strings.HasPrefix(mt, "multipart/") || mt == "multipart/signed" {
		return false
	}
	parts, err := rawmime.SplitMultipart(e.Body, params["boundary"], 100)
	if err != nil {
		// Unsplittable (no close delimiter, ...): this only words a reason,
		// so a plain look for S/MIME media types will do.
		lower := bytes.ToLower(e.Body)
		return bytes.Contains(lower, []byte("application/pkcs7-")) || bytes.Contains(lower, []byte("application/x-pkcs7-"))
	}
	for _, raw := range parts {
		part, err := rawmime.Parse(raw)
		if err != nil {
			continue
		}
		pmt, pparams, err := part.MediaType()
		if err != nil {
			continue
		}
		if pmt == "application/pkcs7-mime" || pmt == "application/x-pkcs7-mime" ||
			(pmt == "multipart/signed" && isPKCS7Signature(pparams["protocol"])) {
			return true
		}
	}
	return false
}

func isPKCS7Signature(protocol string) bool {
	p := strings.ToLower(strings.TrimSpace(protocol))
	return p == "application/pkcs7-signature" || p == "application/x-pkcs7-signature"
}

// fromAddresses returns the addresses of every From field.
func fromAddresses(e *rawmime.Entity) []string {
	var out []string
	for _, v := range e.Fields.Values("From") {
		list, err := mail.ParseAddressList(v)
		if err != nil {
			// Kept as written: it cannot equal a certificate's address,
			// and the mismatch reason shows the sender what was read.
			out = append(out, strings.TrimSpace(v))
			continue
		}
		for _, a := range list {
			out = append(out, a.Address)
		}
	}
	return out
}

// decodeBody undoes an entity's Content-Transfer-Encoding (rawmime.Decode);
// an unknown encoding is an error.
func decodeBody(e *rawmime.Entity) ([]byte, error) {
	b, err := e.DecodedBody(0)
	if err != nil {
		return nil, err
	}
	return b, nil
}

// decodeWithRoom is decodeBody into a buffer of its own with front bytes of
// room in front (rawmime.DecodeWithRoom), returned as room; room is nil
// when the body needed no decoding (binary, 7bit): der is then the body
// itself, which must not be written over.
func decodeWithRoom(e *rawmime.Entity, front int) (der, room []byte, err error) {
	der, room, err = rawmime.DecodeWithRoom(e.TransferEncoding(), e.Body, 0, front)
	if err != nil {
		return nil, nil, err
	}
	return der, room, nil
}

// assembleFront is the room decodeWithRoom leaves in front of an envelope
// of a message with the outer header of top, for assembleOpened to write
// the opened message's header into: the outer fields, each line perhaps
// given a CR, and the inner Content-* fields, which come mostly out of
// the room the inner header takes already. Odd cases that do not fit are
// copied instead.
func assembleFront(top *rawmime.Entity) int {
	return 2*len(top.Header) + 4<<10
}

// assembleOpened is assemble written over buf, the buffer the decrypted
// post lies in (mimecrypt.WriteOver), when inner's body lies there and
// its conversion to the outer line ending does not lengthen it, so that a
// large post is not copied a second time; else (buf nil too) it is
// assemble. The bytes are the same either way. buf and inner must not be
// read after.
func assembleOpened(buf []byte, top, inner *rawmime.Entity) []byte {
	if at, ok := mimecrypt.OffsetIn(buf, inner.Body); ok {
		head, nl := assembleHeader(top, inner)
		if m, ok := mimecrypt.WriteOver(buf, at, head, inner.Body, nil, nl); ok {
			return m
		}
	}
	return assemble(top, inner)
}

// assembleHeader returns the header section assemble writes (with the
// blank line after it) and the line ending it is in.
func assembleHeader(top, inner *rawmime.Entity) ([]byte, string) {
	var h bytes.Buffer
	writeFields(&h, top.Header, false)
	writeFields(&h, inner.Header, true)
	h.WriteString("\r\n")
	if bytes.Contains(top.Header, []byte("\r\n")) || len(top.Header) == 0 {
		return h.Bytes(), "\r\n"
	}
	return bytes.ReplaceAll(h.Bytes(), []byte("\r\n"), []byte("\n")), "\n"
}

// assemble returns the outer header fields of top, except its Content-*
// fields, followed by the Content-* fields and body of inner, in the outer
// header's line-ending style. The body, a whole post, is converted as it is
// copied, once.
func assemble(top, inner *rawmime.Entity) []byte {
	h, nl := assembleHeader(top, inner)
	if nl == "\r\n" {
		// CRLF throughout: a bare LF of the body becomes CRLF (a LF at the
		// start of the body is bare too: the header ends in LF).
		bare := bytes.Count(inner.Body, []byte("\n")) - bytes.Count(inner.Body, []byte("\r\n"))
		out := make([]byte, 0, len(h)+len(inner.Body)+bare)
		out = append(out, h...)
		for rest := inner.Body; len(rest) > 0; {
			i := bytes.IndexByte(rest, '\n')
			if i < 0 {
				out = append(out, rest...)
				break
			}
			if i == 0 || rest[i-1] != '\r' {
				out = append(append(out, rest[:i]...), '\r', '\n')
			} else {
				out = append(out, rest[:i+1]...)
			}
			rest = rest[i+1:]
		}
		return out
	}
	// LF throughout: every CRLF becomes LF.
	out := make([]byte, 0, len(h)+len(inner.Body)-bytes.Count(inner.Body, []byte("\r\n")))
	out = append(out, h...)
	for rest := inner.Body; len(rest) > 0; {
		i := bytes.Index(rest, []byte("\r\n"))
		if i < 0 {
			out = append(out, rest...)
			break
		}
		out = append(append(out, rest[:i]...), '\n')
		rest = rest[i+2:]
	}
	return out
}

// writeFields copies the fields of a raw header section whose name starts
// with "Content-" (when content is true) or does not (when false), each
// ending in CRLF.
func writeFields(w *bytes.Buffer, header []byte, content bool) {
	keep := false
	for len(header) > 0 {
		line := header
		if i := bytes.IndexByte(header, '\n'); i >= 0 {
			line, header = header[:i+1], header[i+1:]
		} else {
			header = nil
		}
		if line[0] != ' ' && line[0] != '\t' {
			isContent := len(line) >= 8 && strings.EqualFold(string(line[:8]), "content-")
			keep = isContent == content
		}
		if keep {
			w.Write(bytes.TrimRight(line, "\r\n"))
			w.WriteString("\r\n")
		}
	}
}

// OpaqueContent returns the MIME entity inside an opaque S/MIME signature
// (an application/pkcs7-mime signed-data entity, header and body), without
// checking the signature: for removing an author's signature, as
// strip_original_signature and anonymous lists do. ok is false when entity
// is not opaque signed-data.
func OpaqueContent(entity []byte) (content []byte, ok bool) {
	e, err := rawmime.Parse(entity)
	if err != nil {
		return nil, false
	}
	mt, params, err := e.MediaType()
	if err != nil || (mt != "application/pkcs7-mime" && mt != "application/x-pkcs7-mime") {
		return nil, false
	}
	if k := strings.ToLower(params["smime-type"]); k != "" && k != "signed-data" {
		return nil, false
	}
	ber, err := decodeBody(e)
	if err != nil {
		return nil, false
	}
	der, err := cms.Normalize(ber)
	if err != nil || kindOf(der) != "signed-data" {
		return nil, false
	}
	p7, err := pkcs7.Parse(der)
	if err != nil || len(p7.Content) == 0 {
		return nil, false
	}
	inner, err := parseContent(p7.Content)
	if err != nil {
		return nil, false
	}
	return inner.Raw, true
}

// UnwrapOpaque returns msg, a message whose content is an opaque S/MIME
// signature, with that content in its place: the outer header fields but
// the Content-* ones, then the signed entity. ok is false when msg is not
// opaque signed-data. Command mail is read this way: the signature has
// been checked by Open, and commands are read from text.
func UnwrapOpaque(msg []byte) (unwrapped []byte, ok bool) {
	content, ok := OpaqueContent(msg)
	if !ok {
		return nil, false
	}
	top, err := rawmime.Parse(msg)
	if err != nil {
		return nil, false
	}
	inner, err := rawmime.Parse(content)
	if err != nil {
		return nil, false
	}
	return assemble(top, inner), true
}
