package notices

import (
	"fmt"

	"cloister/internal/listaddr"
	"cloister/queue"
)

// refusalText is the one answer to every mail the list cannot decrypt or
// verify, or must not act on (S/MIME CBC without a good inner signature):
// the same subject and text whatever the cause, so that the answer says
// nothing about the plaintext (padding and format oracles). The cause is
// in the operator's log.
const refusalText = "The list could not read your message, and did nothing with it.\n\n" +
	"It answers every message it cannot decrypt or verify with this same text.\n" +
	"Check that the message is encrypted to the list's current key or\n" +
	"certificate (mail %s for them), and, for S/MIME, that it\n" +
	"is signed by your address inside the encryption, or encrypted with AES-GCM.\n" +
	"OpenPGP messages must be encrypted with AES (not Camellia, Twofish, IDEA\n" +
	"or Blowfish).\n"

// Refusal returns the list's one fixed answer to a mail it cannot read,
// to to, followed by hint (a fixed sentence of the refusal's kind, or "").
// Send it only when AllowRefusal allows, and never to automatic mail.
func Refusal(list, to, hint string) *Notice {
	return &Notice{
		List:    list,
		From:    listaddr.Address(list, queue.SubOwner),
		To:      to,
		Subject: "Your message to " + list + " could not be read",
		Body:    fmt.Sprintf(refusalText, listaddr.Address(list, queue.SubSendkey)) + hint,
	}
}
