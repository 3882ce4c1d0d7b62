package pgp

import (
	"bytes"
	"strings"

	"cloister/mailmsg"
	"cloister/mailmsg/rawmime"
	"cloister/mimecrypt"
)

// placeholderSubjects are the outer subjects clients write when the real one
// travels encrypted (RFC 9788, Enigmail, Thunderbird, notmuch tests).
var placeholderSubjects = map[string]bool{
	"": true, "...": true, "…": true, "[...]": true,
	"encrypted message": true, "subject unavailable": true, "encrypted subject": true,
}

// merge builds the opened message: the outer fields of top without its
// Content-* fields, then inner's Content-* fields, a blank line and inner's
// body. The inner Subject replaces the outer one under the rule documented
// on Open. The result takes the outer message's line ending.
func merge(top, inner *rawmime.Entity) []byte {
	return mergeParts(top, inner, inner, inner.Body)
}

// mergeParts is merge of an inner entity given in pieces: the protected
// Subject is looked for in protected (as merge looks in inner), the
// Content-* fields are those of fields, and the body is the pieces of body
// one after the other, each given the outer line ending as it is copied,
// so that a whole post is copied once (keepSignature's pieces hold the
// decrypted post as it is).
func mergeParts(top, protected, fields *rawmime.Entity, body ...[]byte) []byte {
	nl := lineEnding(top.Header)
	size := len(top.Header) + len(fields.Header) + 64
	for _, p := range body {
		size += len(p)
	}
	var b bytes.Buffer
	b.Grow(size)
	writeMergedHeader(&b, top, protected, fields, nl)
	for _, p := range body {
		writeLineEnding(&b, p, nl)
	}
	return b.Bytes()
}

// writeMergedHeader writes the header section of the message mergeParts
// builds, and the blank line after it: the outer fields of top without its
// Content-* fields (the protected Subject, when it replaces the outer one,
// in its place), then the Content-* fields of fields, in the line ending nl.
func writeMergedHeader(b *bytes.Buffer, top, protected, fields *rawmime.Entity, nl string) {
	innerSubject, useInner := protectedSubject(top, protected)
	wroteSubject := false
	fs := top.Fields.Fields()
	for fs.Next() {
		k := fs.Key()
		if strings.HasPrefix(strings.ToLower(k), "content-") {
			continue
		}
		if useInner && strings.EqualFold(k, "Subject") {
			if !wroteSubject {
				writeField(b, innerSubject, nl)
				wroteSubject = true
			}
			continue
		}
		raw, err := fs.Raw()
		if err != nil {
			continue
		}
		writeField(b, raw, nl)
	}
	if useInner && !wroteSubject {
		writeField(b, innerSubject, nl)
	}
	ifs := fields.Fields.Fields()
	for ifs.Next() {
		if !strings.HasPrefix(strings.ToLower(ifs.Key()), "content-") {
			continue
		}
		if raw, err := ifs.Raw(); err == nil {
			writeField(b, raw, nl)
		}
	}
	b.WriteString(nl)
}

// mergeOver is mergeParts written over buf, the buffer the decrypted post
// lies in, instead of into a new one (mimecrypt.WriteOver): for a large
// post, the merged message then takes the decrypted entity's place rather
// than being a second copy of it beside the first. body[big], the piece
// holding the post, must be buf[at:at+len(body[big])]; the other pieces
// and the header fields may lie anywhere (in buf too: they are copied out
// before buf is written).
//
// When WriteOver cannot (the conversion to the outer line ending would
// lengthen the piece, the header does not fit in the room in front of it,
// or the piece is not where at says), mergeOver writes nothing and returns
// false: the caller then builds the message with mergeParts, whose output
// is the same. On success the entities and pieces given must not be read
// again.
func mergeOver(buf []byte, at int, top, protected, fields *rawmime.Entity, body [][]byte, big int) ([]byte, bool) {
	if big < 0 || big >= len(body) {
		return nil, false
	}
	nl := lineEnding(top.Header)
	var head, tail bytes.Buffer
	writeMergedHeader(&head, top, protected, fields, nl)
	for _, q := range body[:big] {
		writeLineEnding(&head, q, nl)
	}
	for _, q := range body[big+1:] {
		writeLineEnding(&tail, q, nl)
	}
	return mimecrypt.WriteOver(buf, at, head.Bytes(), body[big], tail.Bytes(), nl)
}

// writeLineEnding writes p to b as withLineEnding(p, nl) would return it,
// without making that copy first.
func writeLineEnding(b *bytes.Buffer, p []byte, nl string) {
	if nl == "\n" {
		for {
			i := bytes.Index(p, []byte("\r\n"))
			if i < 0 {
				b.Write(p)
				return
			}
			b.Write(p[:i])
			b.WriteByte('\n')
			p = p[i+2:]
		}
	}
	for {
		i := bytes.IndexByte(p, '\n')
		if i < 0 {
			b.Write(p)
			return
		}
		if i > 0 && p[i-1] == '\r' {
			b.Write(p[:i+1])
		} else {
			b.Write(p[:i])
			b.WriteString("\r\n")
		}
		p = p[i+1:]
	}
}

// withLineEnding gives body the line ending nl, so that an opened message
// keeps the line ending it was delivered with. Signatures inside stay valid:
// they are checked on the CRLF form, which this does not change.
func withLineEnding(body []byte, nl string) []byte {
	if nl == "\n" {
		return bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	}
	return rawmime.Canonical(body)
}

// protectedSubject returns the inner Subject field (raw) when it should
// replace the outer one.
func protectedSubject(top, inner *rawmime.Entity) ([]byte, bool) {
	if mt, params, _ := inner.MediaType(); mt == "multipart/signed" {
		// Layered (RFC 3156 6.1): the protected fields sit on the signed part.
		if parts, err := rawmime.SplitMultipart(inner.Body, params["boundary"], 2); err == nil && len(parts) == 2 {
			if signed, err := rawmime.Parse(parts[0]); err == nil {
				inner = signed
			}
		}
	}
	if !inner.Fields.Has("Subject") {
		return nil, false
	}
	_, params, _ := inner.MediaType()
	outer := strings.ToLower(strings.TrimSpace(top.Fields.Get("Subject")))
	if params["protected-headers"] != "v1" && !placeholderSubjects[outer] {
		return nil, false
	}
	fs := inner.Fields.FieldsByKey("Subject")
	if !fs.Next() {
		return nil, false
	}
	raw, err := fs.Raw()
	if err != nil {
		return nil, false
	}
	if !mailmsg.OneField(raw) {
		// A bare CR or another control inside the encryption must not
		// become a line break outside it: write the field again as one.
		var b bytes.Buffer
		if mailmsg.WriteField(&b, "Subject", inner.Fields.Get("Subject"), "\n") != nil {
			return nil, false
		}
		raw = b.Bytes()
	}
	return raw, true
}

// mergeText builds the opened message of an inline-encrypted text body: the
// outer fields without Content-Transfer-Encoding, and the plaintext marked
// 8bit (or 7bit when it is ASCII).
func mergeText(top *rawmime.Entity, plain []byte) []byte {
	head, nl := mergeTextHeader(top, plain)
	var b bytes.Buffer
	b.Grow(len(head) + len(plain) + bytes.Count(plain, []byte("\n")))
	b.Write(head)
	writeLineEnding(&b, plain, nl)
	return b.Bytes()
}

// mergeTextHeader returns the header section mergeText writes (the blank
// line after it included) and the line ending the message takes.
func mergeTextHeader(top *rawmime.Entity, plain []byte) ([]byte, string) {
	nl := lineEnding(top.Header)
	var b bytes.Buffer
	fs := top.Fields.Fields()
	for fs.Next() {
		if strings.EqualFold(fs.Key(), "Content-Transfer-Encoding") {
			continue
		}
		if raw, err := fs.Raw(); err == nil {
			writeField(&b, raw, nl)
		}
	}
	cte := "7bit"
	for _, c := range plain {
		if c >= 0x80 {
			cte = "8bit"
			break
		}
	}
	b.WriteString("Content-Transfer-Encoding: " + cte + nl + nl)
	return b.Bytes(), nl
}

// mergeTextOver is mergeText written over buf, where plain lies at
// buf[at:] with room in front (decrypt's, or keepInlineSignature's), when
// mimecrypt.WriteOver can, so that a large post is not copied a second
// time; else it is mergeText. The bytes are the same. buf and plain must
// not be read after.
func mergeTextOver(buf []byte, at int, top *rawmime.Entity, plain []byte) []byte {
	head, nl := mergeTextHeader(top, plain)
	if m, ok := mimecrypt.WriteOver(buf, at, head, plain, nil, nl); ok {
		return m
	}
	return mergeText(top, plain)
}

// writeField writes one raw header field with its line breaks turned into nl.
func writeField(b *bytes.Buffer, raw []byte, nl string) {
	raw = bytes.TrimRight(raw, "\r\n")
	for i, line := range bytes.Split(raw, []byte("\n")) {
		if i > 0 {
			b.WriteString(nl)
		}
		b.Write(bytes.TrimSuffix(line, []byte("\r")))
	}
	b.WriteString(nl)
}

// lineEnding returns "\r\n" when the header uses CRLF, else "\n".
func lineEnding(header []byte) string {
	if bytes.Contains(header, []byte("\r\n")) || len(header) == 0 {
		return "\r\n"
	}
	return "\n"
}
