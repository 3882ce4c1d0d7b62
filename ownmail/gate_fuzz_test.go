package ownmail

import (
	"mime"
	"testing"
)

// FuzzGateParse: the gate's readers of a copy's header and PGP/MIME
// structure return an error or a result for any bytes, never a panic.
func FuzzGateParse(f *testing.F) {
	f.Add([]byte("From: a\r\nContent-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n" +
		"--b\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n" +
		"-----BEGIN PGP MESSAGE-----\r\n\r\nwcBMA/////8=\r\n-----END PGP MESSAGE-----\r\n\r\n--b--\r\n"))
	f.Add([]byte("Content-Type: text/plain\nContent-Type: text/html\n\nx"))
	f.Add([]byte("Content-Type: application/pkcs7-mime;\n smime-type=enveloped-data\nContent-Transfer-Encoding: base64\n\nMA=="))
	f.Fuzz(func(t *testing.T, data []byte) {
		ctype, _, body, err := topFields(data)
		if err != nil {
			return
		}
		if _, params, err := mime.ParseMediaType(ctype); err == nil && params["boundary"] != "" {
			pgpMIMEPayload(body, params["boundary"])
		}
	})
}
