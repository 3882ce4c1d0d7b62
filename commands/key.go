package commands

import (
	"bytes"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"
	"time"

	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/rules"
)

// KeyStore is what the key commands need of the keyring: reading and
// replacing the OpenPGP key bound to a subscriber's address.
type KeyStore interface {
	// SubscriberPGP returns the fingerprint (hex, upper case) of the
	// OpenPGP key bound to address, or "" when there is none.
	SubscriberPGP(address string) (string, error)
	// SetSubscriberPGP binds the armored or binary public key to address,
	// replacing any key bound before; it returns the new fingerprint.
	SetSubscriberPGP(address string, key []byte, now time.Time) (string, error)
	// RevokeSubscriberPGP unbinds the key of address.
	RevokeSubscriberPGP(address string) error
}

// Key gives the list's public key, and lets a subscriber change or revoke
// the key the list holds for their address. A key is never changed by an
// unsigned request or a token alone (security invariant 3): key change and
// key revoke must be signed with the key on file.
type Key struct{}

// Name implements Command.
func (Key) Name() string { return "key" }

// Aliases implements Command.
func (Key) Aliases() []string { return nil }

// Args implements Command.
func (Key) Args() string { return "get | change | revoke" }

// Help implements Command.
func (Key) Help() string {
	return "key get: the list's public key, in a signed reply; key change (signed with your current key, the new key attached); key revoke (signed with your current key)"
}

// Operation implements Command.
func (Key) Operation() string { return "key" }

// Run implements Command.
func (Key) Run(c *Context, args []string) Result {
	if len(args) < 1 {
		return refused("usage: key get | key change | key revoke")
	}
	switch strings.ToLower(args[0]) {
	case "get":
		return keyGet(c)
	case "change", "set":
		return keyChange(c)
	case "revoke":
		return keyRevoke(c)
	}
	return refused("usage: key get | key change | key revoke")
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
		pub, err := armoredPublic(k.pgp)
		if err != nil {
			return failed(err)
		}
		fpr := fmt.Sprintf("%X", k.pgp.PrimaryKey.Fingerprint)
		c.attach = append(c.attach, attachment{Type: "application/pgp-keys", Name: c.List.LocalPart() + ".asc", Data: pub})
		text = append(text, "OpenPGP key "+fpr+" is attached; check the fingerprint with the list owners before you trust it.")
	}
	if k.cert != nil {
		p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: k.cert.Raw})
		c.attach = append(c.attach, attachment{Type: "application/x-pem-file", Name: c.List.LocalPart() + ".pem", Data: p})
		text = append(text, "S/MIME certificate "+k.cert.Subject.CommonName+" is attached.")
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
	var key []byte
	for _, a := range c.Attachments {
		if bytes.Contains(a, []byte("-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			key = a
			break
		}
	}
	if key == nil {
		return refused("attach the new public key (an armored OpenPGP public key block)")
	}
	el, err := openpgp.ReadArmoredKeyRing(bytes.NewReader(key))
	if err != nil || len(el) != 1 {
		return refused("the attached key cannot be read as one OpenPGP public key")
	}
	found := false
	for _, id := range el[0].Identities {
		if id.UserId != nil && strings.EqualFold(id.UserId.Email, c.Sender) {
			found = true
		}
	}
	if !found {
		return refused("the new key carries no user ID with the address %s", c.Sender)
	}
	fpr, err := c.KeyStore.SetSubscriberPGP(c.Sender, key, c.Now)
	if err != nil {
		return refused("the new key was not accepted: %v", err)
	}
	return done("the key for %s is now %s (was %s)", c.Sender, fpr, cur)
}

// keyRevoke unbinds the sender's key, on a mail signed with it.
func keyRevoke(c *Context) Result {
	cur, res, ok := provenByKey(c)
	if !ok {
		return res
	}
	if err := c.KeyStore.RevokeSubscriberPGP(c.Sender); err != nil {
		return failed(errors.Join(err))
	}
	return done("the key %s is no longer used for %s; ask the list owners to set a new one", cur, c.Sender)
}
