package intake

import (
	"bytes"
	"strings"

	"cloister/mailmsg/rawmime"
	"cloister/queue"
)

// decrypts reports whether mail to a subaddress is decrypted. -bounces,
// -join, -leave and -sendkey act on the envelope and the outer header
// alone: an encrypted mail to them is kept as it came (opaque), so that
// resending a captured ciphertext there makes the list decrypt nothing.
// Posts, -request (commands), -confirm (the answer to a key challenge may
// be signed inside the encryption) and -owner (forwarded to the owners)
// are decrypted.
func decrypts(sub string) bool {
	switch sub {
	case queue.SubBounces, queue.SubJoin, queue.SubLeave, queue.SubSendkey:
		return false
	}
	return true
}

// isEncryption reports whether the top level of a message is an
// encryption: PGP/MIME multipart/encrypted, an inline OpenPGP message in a
// text, or S/MIME application/pkcs7-mime that is not signed-data.
func isEncryption(body []byte) bool {
	ent, err := rawmime.Parse(body)
	if err != nil {
		return false
	}
	mt, params, err := ent.MediaType()
	if err != nil {
		return false
	}
	switch {
	case mt == "multipart/encrypted":
		return true
	case mt == "application/pkcs7-mime" || mt == "application/x-pkcs7-mime":
		return !strings.EqualFold(params["smime-type"], "signed-data")
	case strings.HasPrefix(mt, "text/") || strings.HasPrefix(mt, "multipart/"):
		return bytes.Contains(ent.Body, []byte("-----BEGIN PGP MESSAGE-----"))
	}
	return false
}
