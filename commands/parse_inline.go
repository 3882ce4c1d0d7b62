package commands

import (
	"bytes"
	"io"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	"github.com/ProtonMail/go-crypto/openpgp/packet"
)

// inlineSigned returns the text of an inline-signed OpenPGP message (an
// armored PGP MESSAGE of one-pass signature, literal data and signature,
// possibly compressed, as gpg --sign -a and sq sign write it, and as the
// list keeps a signature made inside an inline-PGP encryption) that is the
// whole text, or lines unchanged. The signature is not checked here: the
// incoming runner did, and its verdict is the mail's method.
func inlineSigned(lines []string) []string {
	text := strings.TrimSpace(strings.Join(lines, "\n"))
	if !strings.HasPrefix(text, "-----BEGIN PGP MESSAGE-----") || !strings.HasSuffix(text, "-----END PGP MESSAGE-----") {
		return lines
	}
	blk, err := armor.Decode(strings.NewReader(text))
	if err != nil || blk.Type != "PGP MESSAGE" {
		return lines
	}
	r := packet.NewReader(io.LimitReader(blk.Body, MaxTextBytes))
	for depth := 0; depth < 64; depth++ {
		p, err := r.Next()
		if err != nil {
			return lines
		}
		switch p := p.(type) {
		case *packet.OnePassSignature:
		case *packet.Compressed:
			r = packet.NewReader(io.LimitReader(p.Body, MaxTextBytes))
		case *packet.LiteralData:
			b, err := io.ReadAll(io.LimitReader(p.Body, MaxTextBytes))
			if err != nil {
				return lines
			}
			return strings.Split(string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))), "\n")
		default:
			return lines
		}
	}
	return lines
}
