package pgp

import (
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"
)

// KeyTime returns the time at which to use the site's own key e (a list
// key, an archive key) for something done at now: now, or the time of e's
// newest key packet or self-signature when that is later. Such a key may be
// made after now was taken (the archive key is made on first use, after the
// runner claimed the post and took its time), and OpenPGP holds a key not
// valid before its self-signatures; key packets and signatures carry whole
// seconds, so a key made in the second after now is already "from the
// future" at now. Expiry and revocation are still judged, at the later of
// the two times, never at an earlier one. Keys of others are judged at now.
func KeyTime(e *openpgp.Entity, now time.Time) time.Time {
	at := now
	later := func(t time.Time) {
		if t.After(at) {
			at = t
		}
	}
	if e == nil || e.PrimaryKey == nil {
		return at
	}
	later(e.PrimaryKey.CreationTime)
	for _, s := range e.DirectSignatures {
		later(s.Packet.CreationTime)
	}
	for _, id := range e.Identities {
		for _, s := range id.SelfCertifications {
			later(s.Packet.CreationTime)
		}
	}
	for _, sk := range e.Subkeys {
		later(sk.PublicKey.CreationTime)
		for _, s := range sk.Bindings {
			later(s.Packet.CreationTime)
		}
	}
	return at
}
