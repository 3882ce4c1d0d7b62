package smime

import (
	"bytes"
	"strings"

	"cloister/mailmsg/rawmime"
)

// tight reports whether the plaintext of a CBC envelope leaves an attacker
// no bytes to play with outside the signature inside it: every byte that
// the signature does not cover (the wrapper's header, the preamble, the
// delimiters, the signature part) is printable ASCII, tab, CR or LF, and
// nothing but white space follows the close delimiter. CBC lets whoever
// holds a captured envelope garble blocks or append chosen ones; a
// multipart/signed still verifies when the damage lands outside its signed
// part (a padding oracle hides in the epilogue), so such plaintext is
// refused like any other that does not verify. Random or chosen blocks are
// all but never printable text, and the first block must open with a known
// header field (knownStart).
func tight(plain []byte) bool {
	if !knownStart(plain) {
		return false
	}
	ent, err := rawmime.Parse(plain)
	if err != nil || !printable(ent.Header) {
		return false
	}
	mt, params, err := ent.MediaType()
	if err != nil {
		return false
	}
	if mt != "multipart/signed" {
		// Opaque signed-data: base64 text, all of it covered or checked.
		return printable(ent.Body)
	}
	parts, err := rawmime.SplitMultipart(ent.Body, params["boundary"], maxSignedParts)
	if err != nil || len(parts) != 2 {
		return false
	}
	rest := bytes.Replace(ent.Body, parts[0], nil, 1)
	if !printable(rest) {
		return false
	}
	end := bytes.LastIndex(rest, []byte("--"+params["boundary"]+"--"))
	if end < 0 {
		return false
	}
	return strings.TrimSpace(string(rest[end+len(params["boundary"])+4:])) == ""
}

// knownStart reports whether the plaintext opens with a header field a
// signed entity starts with: "MIME-Version: 1.0" or a Content- field (any
// case). The first block is the one an attacker changes at will through the
// IV without garbling another: pinned to a few public prefixes, whether a
// changed one is accepted says nothing but what everyone knows.
func knownStart(plain []byte) bool {
	for _, p := range []string{"MIME-Version: 1.0", "Content-"} {
		if len(plain) >= len(p) && strings.EqualFold(string(plain[:len(p)]), p) {
			return true
		}
	}
	return false
}

// printable reports whether b holds only printable ASCII, tab, CR and LF.
func printable(b []byte) bool {
	for _, c := range b {
		if (c < 0x20 || c > 0x7e) && c != '\t' && c != '\r' && c != '\n' {
			return false
		}
	}
	return true
}
