package commands

import (
	"bytes"
	"encoding/base64"
	"net/mail"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"cloister/mailmsg/rawmime"
)

// maxAutocryptKey bounds the key data taken from an Autocrypt header.
const maxAutocryptKey = 64 << 10

// autocryptKey returns, armored, the key that the mail's Autocrypt header
// (Autocrypt Level 1, 2.1) offers for sender, or nil: the mail must carry
// exactly one such header, its addr must be sender's address (and the From
// address), and it must have no unknown critical attribute. Delta Chat and
// other Autocrypt clients offer their key this way instead of attaching it.
// It is a key offered for key set only: binding it still takes the
// challenge answered with it.
func autocryptKey(msg []byte, sender string) []byte {
	ent, err := rawmime.Parse(msg)
	if err != nil {
		return nil
	}
	hdrs := ent.Fields.Values("Autocrypt")
	if len(hdrs) != 1 {
		return nil
	}
	from, err := mail.ParseAddress(ent.Fields.Get("From"))
	if err != nil || !strings.EqualFold(from.Address, sender) {
		return nil
	}
	var addr, keydata string
	for _, attr := range strings.Split(hdrs[0], ";") {
		name, value, ok := strings.Cut(strings.TrimSpace(attr), "=")
		if !ok {
			return nil
		}
		switch name = strings.ToLower(strings.TrimSpace(name)); {
		case name == "addr":
			addr = strings.TrimSpace(value)
		case name == "keydata":
			keydata = strings.Map(func(r rune) rune {
				if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
					return -1
				}
				return r
			}, value)
		case name == "prefer-encrypt" || strings.HasPrefix(name, "_"):
		default:
			return nil // an unknown critical attribute: the header is not understood
		}
	}
	if !strings.EqualFold(addr, sender) || keydata == "" || len(keydata) > maxAutocryptKey*4/3+4 {
		return nil
	}
	bin, err := base64.StdEncoding.DecodeString(keydata)
	if err != nil {
		return nil
	}
	var b bytes.Buffer
	w, err := armor.EncodeWithChecksumOption(&b, "PGP PUBLIC KEY BLOCK", nil, true)
	if err != nil {
		return nil
	}
	w.Write(bin)
	if w.Close() != nil {
		return nil
	}
	return b.Bytes()
}
