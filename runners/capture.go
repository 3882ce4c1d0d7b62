package runners

import (
	"cloister/commands"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/queue"
)

// captureCert stores the certificate (DER) of a good S/MIME signature for the
// From address (keyring Capture: it must chain to the trust anchors, carry
// the address and allow encryption), but only where the address's
// key_enrolment is proof. Under owner or vouched a captured certificate
// would bind a key that no owner approved: whoever holds a certificate for
// the address (from a CA that checks only the mailbox, say) would then read
// the list's encrypted mail to it. There certificates are bound by key set
// and an owner's approval, by an owner, or on the server.
func captureCert(s *site.Site, list *lists.List, m *queue.Meta, cert []byte) {
	mode, err := commands.EnrolmentMode(s, list, m.From)
	if err != nil {
		s.Log.Info("certificate not captured", "entry", m.ID, "from", m.From, "reason", err.Error())
		return
	}
	if mode != lists.EnrolProof {
		s.Log.Info("certificate not captured", "entry", m.ID, "from", m.From, "reason", "key_enrolment "+mode+": certificates are bound only with an owner's approval")
		return
	}
	if err := s.Keys.Capture(m.From, cert); err != nil {
		s.Log.Info("certificate not captured", "entry", m.ID, "from", m.From, "reason", err.Error())
	}
}
