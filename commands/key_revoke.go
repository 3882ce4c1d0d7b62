package commands

import (
	"bytes"
	"errors"
	"fmt"
	"io"

	"github.com/ProtonMail/go-crypto/openpgp/armor"
	pgperrors "github.com/ProtonMail/go-crypto/openpgp/errors"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"cloister/rules"
	"cloister/service"
)

// keyRevoke unbinds the sender's key, on a mail signed with it, or on a
// revocation signature of it, which is itself a signature by the key:
// attached or pasted as gpg keeps it in openpgp-revocs.d, as sq key
// generate writes it (a bare PGP SIGNATURE), or inside the revoked
// certificate as rnp, Thunderbird and sq export it.
func keyRevoke(c *Context) Result {
	if c.Method != rules.MethodPGP && c.KeyStore != nil {
		if revs := revocationsIn(c.Attachments); len(revs) > 0 {
			return revokeByCertificate(c, revs)
		}
	}
	cur, res, ok := provenByKey(c)
	if !ok {
		return res
	}
	if err := c.unbindKey(c.Sender, service.GroundsSelf); err != nil {
		return failed(err)
	}
	c.announceKey(c.Sender, rules.Reasonf("The OpenPGP key %s is no longer bound to %s (key revoke, signed with it).", cur, c.Sender))
	return done("the key %s is no longer used for %s; ask the list owners to set a new one", cur, c.Sender)
}

// maxRevocations bounds the key revocation signatures taken from one mail:
// each costs a signature check.
const maxRevocations = 8

// revocationsIn returns the key revocation signatures (type 0x20) found in
// the armored public key blocks and signature blocks of the attachments,
// in order: a revocation certificate alone, or with the key it revokes.
func revocationsIn(atts [][]byte) []*packet.Signature {
	var revs []*packet.Signature
	for _, a := range atts {
		for _, begin := range []string{"-----BEGIN PGP PUBLIC KEY BLOCK-----", "-----BEGIN PGP SIGNATURE-----"} {
			i := bytes.Index(a, []byte(begin))
			if i < 0 {
				continue
			}
			blk, err := armor.Decode(bytes.NewReader(a[i:]))
			if err != nil {
				continue
			}
			r := packet.NewReader(limited(blk.Body))
			for n := 0; n < 256 && len(revs) < maxRevocations; n++ {
				p, err := r.Next()
				if err == io.EOF {
					break
				}
				if err != nil {
					var unsupported pgperrors.UnsupportedError
					if errors.As(err, &unsupported) {
						continue
					}
					break
				}
				if sig, ok := p.(*packet.Signature); ok && sig.SigType == packet.SigTypeKeyRevocation {
					revs = append(revs, sig)
				}
			}
		}
	}
	return revs
}

// revokeByCertificate unbinds the sender's key when one of revs is a
// revocation signature that verifies against the key on file: the
// signature is the key holder's own proof, whoever sent it.
func revokeByCertificate(c *Context, revs []*packet.Signature) Result {
	if c.Site.Keys == nil {
		return refused("no key of yours is on file")
	}
	ent, err := c.Site.Keys.EncryptionPGP(c.Sender, c.Now)
	if err != nil {
		return refused("no usable key of yours is on file to revoke")
	}
	verified := false
	for _, rev := range revs {
		if ent.PrimaryKey.VerifyRevocationSignature(rev) == nil {
			verified = true
			break
		}
	}
	if !verified {
		return refused("the revocation certificate is not made by the key on file for %s", c.Sender)
	}
	lc := *c
	lc.Method = rules.MethodPGP // the certificate is the key's own signature
	d, err := lc.Authorize("key")
	if err != nil {
		return failed(err)
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d)
	}
	fpr := fmt.Sprintf("%X", ent.PrimaryKey.Fingerprint)
	if err := lc.unbindKey(c.Sender, service.GroundsRevocation); err != nil {
		return failed(err)
	}
	c.announceKey(c.Sender, rules.Reasonf("The OpenPGP key %s is no longer bound to %s (key revoke, with its revocation certificate).", fpr, c.Sender))
	return done("the key %s is revoked for %s; ask the list owners to set a new one", fpr, c.Sender)
}

// isBareRevocation says whether b holds a PGP SIGNATURE block with a key
// revocation signature in it. The signature of a signed mail or a
// clear-signed block (types 0x00, 0x01) is not one.
func isBareRevocation(b []byte) bool {
	return bytes.Contains(b, []byte("-----BEGIN PGP SIGNATURE-----")) &&
		!bytes.Contains(b, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) &&
		len(revocationsIn([][]byte{b})) > 0
}
