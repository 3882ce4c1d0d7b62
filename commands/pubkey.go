package commands

import (
	"bytes"
	"encoding/pem"
	"fmt"
	"strings"

	"github.com/ProtonMail/go-crypto/openpgp/armor"

	"cloister/lists"
)

// Pubkey sends the public key or certificate the list holds for one of its
// subscribers (Schleuder's x-get-key), to those who may see the roster.
type Pubkey struct{}

// Name implements Command.
func (Pubkey) Name() string { return "pubkey" }

// Aliases implements Command.
func (Pubkey) Aliases() []string { return []string{"x-get-key"} }

// Args implements Command.
func (Pubkey) Args() string { return "ADDRESS" }

// Help implements Command.
func (Pubkey) Help() string {
	return "the OpenPGP key or S/MIME certificate the list holds for the subscriber ADDRESS, attached, if the list lets you see its members"
}

// Operation implements Command.
func (Pubkey) Operation() string { return "review" }

// Run implements Command.
func (Pubkey) Run(c *Context, args []string) Result {
	if len(args) != 1 {
		return refused("usage: pubkey ADDRESS")
	}
	if r, ok := mayReview(c); !ok {
		return r
	}
	if c.Site.Keys == nil || c.KeyStore == nil {
		return refused("this server keeps no subscriber keys")
	}
	addr := strings.ToLower(strings.Trim(args[0], "<>"))
	subscribed := false
	err := c.Site.Lists.View(func(tx *lists.Tx) error {
		m, err := tx.Member(c.List.Address, addr)
		subscribed = err == nil && m.IsSubscriber()
		return nil
	})
	if err != nil {
		return failed(err)
	}
	if !subscribed {
		return refused("%s is not subscribed to %s", addr, c.List.Address)
	}
	var text []string
	if k, err := c.Site.Keys.EncryptionPGP(addr, c.Now); err == nil {
		var b bytes.Buffer
		w, err := armor.Encode(&b, "PGP PUBLIC KEY BLOCK", nil)
		if err == nil {
			err = k.Serialize(w)
		}
		if err == nil {
			err = w.Close()
		}
		if err != nil {
			return failed(fmt.Errorf("export key of %s: %w", addr, err))
		}
		fpr := fmt.Sprintf("%X", k.PrimaryKey.Fingerprint)
		c.attach = append(c.attach, attachment{Type: "application/pgp-keys", Name: fileName(addr) + ".asc", Data: b.Bytes()})
		text = append(text, c.tr("OpenPGP key %s of %s is attached.", fpr, addr))
	}
	if fprs, err := c.KeyStore.SubscriberCerts(addr); err == nil {
		for _, f := range fprs {
			if der, ok := c.KeyStore.CertByFingerprint(f); ok {
				p := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
				c.attach = append(c.attach, attachment{Type: "application/x-pem-file", Name: fileName(addr) + ".pem", Data: p})
				text = append(text, c.tr("S/MIME certificate %s of %s is attached.", f, addr))
			}
		}
	}
	if len(text) == 0 {
		return refused("the list holds no usable key for %s", addr)
	}
	return done("%s", strings.Join(text, "\n"))
}

// fileName turns an address into a safe attachment name.
func fileName(addr string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '.' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, addr)
}
