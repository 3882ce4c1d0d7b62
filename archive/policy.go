package archive

import (
	"cloister/lists"
	"cloister/queue"
)

// MayBeEncrypted reports whether a list's posts may arrive or leave
// encrypted: any OpenPGP or S/MIME post or distribution setting other than
// "no". Such a list's archive holds every message encrypted to its archive
// key, and notices about it carry no content.
func MayBeEncrypted(st lists.Settings) bool {
	for _, v := range []string{st.PGPPostEncrypt, st.SMIMEPostEncrypt, st.PGPPostSign, st.SMIMEPostSign,
		st.PGPDistribEncrypt, st.SMIMEDistribEncrypt, st.PGPDistribSign, st.SMIMEDistribSign} {
		if v != "" && v != "no" {
			return true
		}
	}
	return false
}

// MustEncrypt reports whether a message of a list is archived encrypted:
// the list may carry encrypted posts, or this message arrived encrypted
// (its entry's encryption is not none).
func MustEncrypt(st lists.Settings, m *queue.Meta) bool {
	return MayBeEncrypted(st) || m.ArrivedEncrypted() || (m != nil && m.Sealed != nil)
}
