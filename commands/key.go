package commands

import (
	"bytes"
	"context"
	"encoding/pem"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/keyring"
	"cloister/lists"
	"cloister/mimecrypt"
	"cloister/mimecrypt/pgp"
	"cloister/rules"
	"cloister/service"
)

// KeyStore is where the key commands read subscriber keys
// (service.KeyStore); they change them through the service.
type KeyStore = service.KeyStore

// KeyringStore is the KeyStore of a site's keyring (service.KeyringStore).
type KeyringStore = service.KeyringStore

// Key gives the list's public key or certificate, and lets a subscriber set,
// change or revoke the OpenPGP key or S/MIME certificate the list holds for
// their address. A key is never changed by an unsigned request or a token
// alone (security invariant 3): key set binds a key only when the challenge
// encrypted to it comes back signed with it; key change and key revoke must
// be signed with the key on file (OpenPGP) or with a certificate of the
// sender's address that chains to the site's trust anchors (S/MIME).
type Key struct{}

// Name implements Command.
func (Key) Name() string { return "key" }

// Aliases implements Command.
func (Key) Aliases() []string { return nil }

// Args implements Command.
func (Key) Args() string {
	return "get | set [ADDRESS] | change | revoke | sign [ADDRESS [FINGERPRINT]] | pending | approve ID | refuse ID"
}

// Help implements Command.
func (Key) Help() string {
	return "key get: the list's public key or certificate, in a signed reply; key set (your first OpenPGP key or S/MIME certificate attached: you get a challenge encrypted to it, to answer signed with it); key change (signed with your current key or certificate, the new one attached); key revoke (signed with your current key, or with its revocation certificate attached; S/MIME: signed, withdraws the attached certificate or else the signing one); key sign (signed with your key, the list key attached as your gpg exports it after signing it: key get then publishes your certification); key sign ADDRESS [FINGERPRINT] (on lists with key_enrolment vouched, signed with your key: vouch for a member's key, attached or waiting with that fingerprint); (owners) key set ADDRESS, the key or certificate attached; key pending, key approve ID, key refuse ID: the keys waiting for an owner's approval"
}

// Operation implements Command.
func (Key) Operation() string { return "key" }

// Run implements Command.
func (Key) Run(c *Context, args []string) Result {
	if len(args) < 1 {
		return refused("usage: key get | key set | key change | key revoke")
	}
	switch strings.ToLower(args[0]) {
	case "get":
		return keyGet(c)
	case "change":
		if c.certRequest() {
			return certChange(c)
		}
		return keyChange(c)
	case "set":
		if len(args) > 1 {
			return ownerKeySet(c, args[1])
		}
		return keySet(c)
	case keyConfirmArg:
		if len(args) != 2 || !c.Confirmed {
			return refused("usage: key get | key set | key change | key revoke")
		}
		return keySetConfirmed(c, args[1])
	case "revoke":
		if c.certRequest() {
			return certRevoke(c)
		}
		return keyRevoke(c)
	case "sign":
		if len(args) > 1 {
			return vouch(c, args[1:])
		}
		return keySign(c)
	case "pending":
		return keyPending(c)
	case "approve":
		if len(args) != 2 {
			return refused("usage: key approve ID")
		}
		return keyApprove(c, args[1])
	case "refuse":
		if len(args) != 2 {
			return refused("usage: key refuse ID")
		}
		return keyRefuse(c, args[1])
	}
	return refused("usage: key get | key set | key change | key revoke")
}

// keySign records a member's certification of the list's key: the mail,
// signed with the member's key on file, carries the list's public key as the
// member's gpg exports it after signing it (gpg --quick-sign-key). The
// certification is published with the list key by key get, so others can
// check the list key through the members they trust.
func keySign(c *Context) Result {
	memberFpr, res, ok := provenByKey(c)
	if !ok {
		return res
	}
	k, err := loadListKeys(c.Site, c.List.Address)
	if err != nil {
		return failed(err)
	}
	if k.pgp == nil {
		return refused("this list has no OpenPGP key")
	}
	_, att, res := readAttachedKey(c)
	if att == nil {
		return res
	}
	if !bytes.Equal(att.PrimaryKey.Fingerprint, k.pgp.PrimaryKey.Fingerprint) {
		return refused("the attached key is not the list's key %X", k.pgp.PrimaryKey.Fingerprint)
	}
	member, err := c.Site.Keys.EncryptionPGP(c.Sender, c.Now)
	if err != nil {
		return failed(err)
	}
	for name, id := range att.Identities {
		for _, vs := range id.OtherCertifications {
			sig := vs.Packet
			if !bytes.Equal(sig.IssuerFingerprint, member.PrimaryKey.Fingerprint) &&
				(sig.IssuerKeyId == nil || *sig.IssuerKeyId != member.PrimaryKey.KeyId) {
				continue
			}
			if err := member.PrimaryKey.VerifyUserIdSignature(name, k.pgp.PrimaryKey, sig); err != nil {
				return refused("your certification of the list key does not verify: %v", err)
			}
			var b bytes.Buffer
			if err := sig.Serialize(&b); err != nil {
				return failed(err)
			}
			if err := c.service().ListKeyCertify(context.Background(), c.actor(), service.ListKeyCertifyRequest{
				List: c.List.Address, Cert: keyring.ListCert{UserID: name, Issuer: memberFpr, Signature: b.Bytes()}}); err != nil {
				return failed(err)
			}
			return done("your certification of the list key is recorded; key get now publishes it")
		}
	}
	return refused("the attached list key carries no certification by your key %s (sign it with gpg --quick-sign-key, then export it)", memberFpr)
}

// certifiedPublic returns the list's public key with the members'
// certifications recorded by key sign added to its user IDs.
func certifiedPublic(c *Context, e *openpgp.Entity) ([]byte, error) {
	if c.KeyStore == nil {
		return armoredPublic(e)
	}
	certs, err := c.KeyStore.ListCertificationsPGP(c.List.Address)
	if err != nil || len(certs) == 0 {
		return armoredPublic(e)
	}
	var pub bytes.Buffer
	if err := e.Serialize(&pub); err != nil {
		return nil, err
	}
	el, err := openpgp.ReadKeyRing(&pub)
	if err != nil || len(el) != 1 {
		return nil, fmt.Errorf("re-read list key: %v", err)
	}
	cp := el[0]
	for _, lc := range certs {
		id, ok := cp.Identities[lc.UserID]
		if !ok {
			continue
		}
		p, err := packet.Read(bytes.NewReader(lc.Signature))
		if err != nil {
			continue
		}
		if sig, ok := p.(*packet.Signature); ok {
			id.OtherCertifications = append(id.OtherCertifications, packet.NewVerifiableSig(sig))
		}
	}
	return armoredPublic(cp)
}

// keyGet attaches the list's public key or certificate; the reply is
// signed with the list's key.
func keyGet(c *Context) Result {
	k, err := loadListKeys(c.Site, c.List.Address)
	if err != nil {
		return failed(err)
	}
	var text []string
	if k.pgp != nil {
		pub, err := certifiedPublic(c, k.pgp)
		if err != nil {
			return failed(err)
		}
		fpr := fmt.Sprintf("%X", k.pgp.PrimaryKey.Fingerprint)
		c.attach = append(c.attach, attachment{Type: "application/pgp-keys", Name: c.List.LocalPart() + ".asc", Data: pub})
		text = append(text, c.tr("OpenPGP key %s is attached; check the fingerprint with the list owners before you trust it.", fpr))
	}
	if k.cert != nil {
		p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw})
		c.attach = append(c.attach, attachment{Type: "application/x-pem-file", Name: c.List.LocalPart() + ".pem", Data: p})
		text = append(text, c.tr("S/MIME certificate %s is attached.", certName(k.cert)))
	}
	if len(text) == 0 {
		return refused("this list has no key")
	}
	return done("%s", strings.Join(text, "\n"))
}

// provenByKey reports whether the command mail was signed (method pgp) by
// the key on file for the sender.
func provenByKey(c *Context) (string, Result, bool) {
	if c.KeyStore == nil {
		return "", refused("keys cannot be changed by mail on this server; ask the list owners"), false
	}
	d, err := c.Authorize("key")
	if err != nil {
		return "", failed(err), false
	}
	if d.Action != rules.ScenarioDoIt {
		return "", refusal(d), false
	}
	if c.Method != rules.MethodPGP {
		return "", refused("a key request must be signed with your current OpenPGP key"), false
	}
	cur, err := c.KeyStore.SubscriberPGP(c.Sender)
	if err != nil {
		return "", failed(err), false
	}
	if cur == "" {
		return "", refused("no key of yours is on file; ask the list owners to set one"), false
	}
	if !strings.EqualFold(cur, c.SignerFpr) {
		return "", refused("the mail is not signed with the key on file for %s", c.Sender), false
	}
	return cur, Result{}, true
}

// keyChange replaces the sender's key with the attached one, on a mail
// signed with the current key.
func keyChange(c *Context) Result {
	cur, res, ok := provenByKey(c)
	if !ok {
		return res
	}
	key, _, res := attachedKey(c)
	if key == nil {
		return res
	}
	fpr, err := c.bindKey(c.Sender, key, nil, false, service.GroundsSelf)
	if err != nil {
		return refused("the new key was not accepted: %v", err)
	}
	c.announceKey(c.Sender, rules.Reasonf("The OpenPGP key for %s is now %s; it was %s (key change, signed with the old key).", c.Sender, fpr, cur))
	return done("the key for %s is now %s (was %s)", c.Sender, fpr, cur)
}

// ownerKeySet binds the attached key to address (replacing its key) on an
// owner's signed request: the owner's word is the authority (security
// invariant 3). The key must carry the address in a user ID.
func ownerKeySet(c *Context, address string) Result {
	// Whatever a site's own admin scenario allows, a key is never set by
	// unsigned mail (security invariant 3).
	if res, ok := ownerSigned(c); !ok {
		return res
	}
	addr, err := lists.CanonicalAddress(strings.Trim(address, "<>"))
	if err != nil {
		return refused("%q is not an address", address)
	}
	// A key is bound for the whole site: an owner of this list speaks
	// only for addresses whose every list they may run.
	if err := c.service().AuthorizeKeyHolder(c.actor(), c.List, addr); err != nil {
		if service.Code(err) == service.CodeForbidden {
			return refused("%s", service.Message(err))
		}
		return failed(err)
	}
	oc := *c
	oc.Sender = addr
	if len(c.Attachments) == 0 && len(c.Certificates) > 0 {
		fpr, err := c.bindKey(addr, nil, c.Certificates[0], false, service.GroundsOwner)
		if err != nil {
			return refused("the certificate was not accepted: %v", err)
		}
		c.announceKey(addr, rules.Reasonf("The S/MIME certificate for %s is now %s, set by the list owner %s (key set %s).", addr, fpr, c.Sender, addr))
		return done("the certificate for %s is now %s (set by %s)", addr, fpr, c.Sender)
	}
	key, _, res := attachedKey(&oc)
	if key == nil {
		return res
	}
	fpr, err := c.bindKey(addr, key, nil, false, service.GroundsOwner)
	if err != nil {
		return refused("the key was not accepted: %v", err)
	}
	c.announceKey(addr, rules.Reasonf("The OpenPGP key for %s is now %s, set by the list owner %s (key set %s).", addr, fpr, c.Sender, addr))
	return done("the key for %s is now %s (set by %s)", addr, fpr, c.Sender)
}

// keyConfirmArg marks the second step of key set, run by the token.
const keyConfirmArg = "set-confirmed"

// attachedKey returns the one OpenPGP public key attached to (or pasted
// in) the command mail, which must carry the sender's address.
func attachedKey(c *Context) ([]byte, *openpgp.Entity, Result) {
	key, e, res := readAttachedKey(c)
	if e == nil {
		return nil, nil, res
	}
	for _, id := range e.Identities {
		if id.UserId != nil && strings.EqualFold(id.UserId.Email, c.Sender) {
			return key, e, Result{}
		}
	}
	return nil, nil, refused("the key carries no user ID with the address %s", c.Sender)
}

// readAttachedKey returns the one OpenPGP public key attached to the mail.
func readAttachedKey(c *Context) ([]byte, *openpgp.Entity, Result) {
	var key []byte
	for _, a := range c.Attachments {
		if bytes.Contains(a, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			key = a
			break
		}
	}
	if key == nil {
		return nil, nil, refused("attach the public key (an armored OpenPGP public key block)")
	}
	if i := bytes.Index(key, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")); i > 0 {
		key = key[i:]
	}
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(key))
	if err != nil || len(el) != 1 {
		return nil, nil, refused("the attached key cannot be read as one OpenPGP public key")
	}
	return key, el[0], Result{}
}

// keySet registers a first key or certificate for the sender: a challenge
// token goes to the sender encrypted to it, and it is bound only when the
// answer comes back signed by it (proof of holding it, and of reading the
// mailbox). An address that has one uses key change.
func keySet(c *Context) Result {
	if c.KeyStore == nil {
		return refused("keys cannot be set by mail on this server; ask the list owners")
	}
	k, res := c.offered()
	if k == nil {
		if res.Status != "" {
			return res
		}
		return refused("attach the public key (an armored OpenPGP public key block) or the S/MIME certificate (PEM or DER)")
	}
	lk, err := loadListKeys(c.Site, c.List.Address)
	if err != nil {
		return failed(err)
	}
	var cur string
	if k.pgp != nil {
		if cur, err = c.KeyStore.SubscriberPGP(c.Sender); err != nil {
			return failed(err)
		}
		if cur != "" {
			return refused("a key is on file for %s; use key change, signed with it", c.Sender)
		}
		if lk.pgp == nil {
			return refused("this list has no OpenPGP key to send the challenge with")
		}
	} else {
		certs, err := c.KeyStore.SubscriberCerts(c.Sender)
		if err != nil {
			return failed(err)
		}
		for _, f := range certs {
			if strings.EqualFold(f, k.fingerprint()) {
				return done("the certificate %s is already on file for %s", f, c.Sender)
			}
		}
		if len(certs) > 0 {
			return refused("a certificate is on file for %s; use key change, signed with a certificate of your address", c.Sender)
		}
		if lk.cert == nil {
			return refused("this list has no S/MIME certificate to send the challenge with")
		}
	}
	what := rules.Reasonf("register %s for %s on %s", k.reason(), c.Sender, c.List.Address)
	extra := c.tr("Answer this message SIGNED with that key or certificate (not encrypted, or\n" +
		"with the signature inside the encryption): a token alone does not register\n" +
		"a key.")
	if mode, err := enrolmentMode(c, c.Sender); err == nil && mode == lists.EnrolVouched {
		extra += c.tr("\n\nOn this list the key is then bound once the list owners approve it, or a member\n" +
			"vouches for it: tell them its fingerprint by a way other than mail.")
	} else if err == nil && mode != lists.EnrolProof {
		extra += c.tr("\n\nOn this list the key is then bound once the list owners approve it: tell them its fingerprint by a way other than mail.")
	}
	r := c.askConfirmWith(Key{}, []string{keyConfirmArg, k.Text}, c.Sender, what, k, extra)
	if r.Status == Pending {
		r.Text = c.tr("a challenge encrypted to %s was sent to %s; answer it signed with it", k.describeIn(c), c.Sender)
	}
	return r
}

// provenBy checks that the command mail (the answer to a challenge) is
// signed by key, with the key bound for this check to the address being
// enrolled (c.Sender) and to nothing else: a From naming any other address,
// even one of the key's user IDs, is a signer mismatch.
func (c *Context) provenBy(key string) Result {
	el, err := openpgp.ReadArmoredKeyRing(strings.NewReader(key))
	if err != nil || len(el) != 1 {
		return failed(fmt.Errorf("pending key: %v", err))
	}
	want := fmt.Sprintf("%X", el[0].PrimaryKey.Fingerprint)
	res, err := pgp.Open(c.Body, pgp.OpenOptions{
		Senders: pgp.Bound{{Entity: el[0], Addresses: []string{c.Sender}}}, Now: c.Now})
	if err != nil || res.Verdict != mimecrypt.VerdictGood || !strings.EqualFold(res.SignerFingerprint, want) {
		// Fixed words only: a library's error text is no answer to send.
		why := rules.Reasonf("no signature")
		if err != nil {
			why = rules.Reasonf("the signed content cannot be read")
		} else if res.Verdict != mimecrypt.VerdictNone {
			why = rules.Reasonf("signature verdict %s", string(res.Verdict))
		}
		return refused("the answer is not signed with the key %s (%s; a token alone does not register a key); send the request again", want, why)
	}
	return done("")
}

// keySetConfirmed binds the key once the challenge came back signed by it.
func keySetConfirmed(c *Context, key string) Result {
	k, err := parseOffered(key)
	if err != nil {
		return failed(err)
	}
	if r := c.provenByOffered(k); r.Status != Done {
		return r
	}
	c.Method = rules.MethodPGP
	if k.cert != nil {
		c.Method = rules.MethodSMIME
	}
	d, err := c.Authorize("key")
	if err != nil {
		return failed(err)
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d)
	}
	return c.enrol(c.Sender, k, rules.Reasonf("key set"))
}

// pgpEncryptable says why a key cannot be encrypted to at now, if so.
func pgpEncryptable(e *openpgp.Entity, now time.Time) error {
	_, _, err := pgp.EncryptionKey(e, now, nil)
	return err
}
