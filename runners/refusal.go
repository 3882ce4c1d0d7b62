package runners

import (
	"fmt"

	"cloister/internal/decision"
	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/mailmsg"
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

// refuse answers a refused mail with the fixed text, at most
// RefusalNoticeLimit times per sender and window, and never automatic mail.
func refuse(j *Job, list *lists.List, m *queue.Meta, msg *mailmsg.Message, r *cryptoRefusal) error {
	j.Log.Info("decision", "decision", decision.Refused, "reason", r.reason, "from", m.From, "subaddress", m.Subaddress)
	if shouldNotAnswer(m, msg) {
		return nil
	}
	ok, err := allowRefusalNotice(j.Site.Config.StateDir, m.Sender, j.Now)
	if err != nil {
		return err
	}
	if !ok {
		j.Log.Info("decision", "decision", decision.RefusalNotAnswered, "reason", "notice limit for the sender reached")
		return nil
	}
	n := &Notice{
		List:    list.Address,
		From:    listaddr.Address(list.Address, queue.SubOwner),
		To:      m.Sender,
		Subject: "Your message to " + list.Address + " could not be read",
		Body:    fmt.Sprintf(refusalText, listaddr.Address(list.Address, queue.SubSendkey)) + r.hint,
	}
	j.Send(queue.Out, n.MetaFrom("notice", m, false, m.Sender), n.Bytes(j.Now))
	return nil
}
