package commands

import (
	"bytes"
	"encoding/base64"
	"strings"
	"testing"

	"cloister/mailmsg/rawmime"
)

// TestSignatureBytesSMIME: an S/MIME signature part's base64 is decoded
// whatever its line breaks and blanks (CRLF, LF, spaces, tabs), as every
// transfer encoding is (rawmime.Decode); text that is not base64 is no
// signature.
func TestSignatureBytesSMIME(t *testing.T) {
	der := bytes.Repeat([]byte{0x30, 0x82, 0x01, 0xff, 0x00, 0xa5}, 30)
	enc := base64.StdEncoding.EncodeToString(der)
	wrap := func(nl string) string {
		var b strings.Builder
		for s := enc; s != ""; {
			n := min(64, len(s))
			b.WriteString(s[:n] + nl)
			s = s[n:]
		}
		return b.String()
	}
	for _, tc := range []struct {
		name, body string
		ok         bool
	}{
		{"LF", wrap("\n"), true},
		{"CRLF", wrap("\r\n"), true},
		{"blanks", " " + wrap(" \t\r\n"), true},
		{"one line", enc, true},
		{"not base64", "%%% not base64 %%%\n", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			part := "Content-Type: application/pkcs7-signature; name=smime.p7s\r\n" +
				"Content-Transfer-Encoding: base64\r\n\r\n" + tc.body
			sp, err := rawmime.Parse([]byte(part))
			if err != nil {
				t.Fatal(err)
			}
			got, _, ok := signatureBytes(sp)
			if ok != tc.ok || (ok && !bytes.Equal(got, der)) {
				t.Fatalf("signatureBytes = %x, %v; want %v", got, ok, tc.ok)
			}
		})
	}
}
