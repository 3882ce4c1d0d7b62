package commands

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"github.com/ProtonMail/go-crypto/openpgp/clearsign"
	"github.com/ProtonMail/go-crypto/openpgp/packet"

	"cloister/lists"
	"cloister/mimecrypt/pgp"
	"cloister/rules"
)

// maxSignText bounds the text one sign command signs.
const maxSignText = 64 << 10

// Sign returns the text that follows it in the command mail clear-signed
// with the list's OpenPGP key (Schleuder's x-sign-this), for members whose
// command mail is signed with their own key or certificate.
type Sign struct{}

// Name implements Command.
func (Sign) Name() string { return "sign" }

// Aliases implements Command.
func (Sign) Aliases() []string { return []string{"x-sign-this"} }

// Args implements Command.
func (Sign) Args() string { return "" }

// Help implements Command.
func (Sign) Help() string {
	return "(members, in a signed mail) the text after this line, up to your signature, comes back clear-signed by the list's OpenPGP key; no command is read from it"
}

// Operation implements Command.
func (Sign) Operation() string { return "" }

// Run implements Command. The signed text comes back in the reply, which
// is encrypted to the sender when the command mail was.
func (Sign) Run(c *Context, args []string) Result {
	if c.Method != rules.MethodPGP && c.Method != rules.MethodSMIME {
		return refused("the list signs text only for members whose command mail is signed with their own key or certificate")
	}
	member := false
	if err := c.Site.Lists.View(func(tx *lists.Tx) error {
		_, err := tx.Member(c.List.Address, c.Sender)
		member = err == nil
		return nil
	}); err != nil {
		return failed(err)
	}
	if !member {
		return refused("the list signs text only for its members")
	}
	text := strings.Trim(strings.Join(c.Rest, "\n"), "\n")
	if strings.TrimSpace(text) == "" {
		return refused("nothing to sign: write the text on the lines after the sign command")
	}
	if len(text) > maxSignText {
		return refused("the text is longer than %d bytes", maxSignText)
	}
	k, err := loadListKeys(c.Site, c.List.Address)
	if err != nil {
		return failed(err)
	}
	if k.pgp == nil {
		return refused("this list has no OpenPGP key")
	}
	at := pgp.KeyTime(k.pgp, c.Now) // the list's key, perhaps made after c.Now
	cfg := &packet.Config{Time: func() time.Time { return at }}
	key, ok := k.pgp.SigningKey(at, cfg)
	if !ok || key.PrivateKey == nil {
		return failed(fmt.Errorf("list %s: no usable signing key", c.List.Address))
	}
	var b bytes.Buffer
	w, err := clearsign.Encode(&b, key.PrivateKey, cfg)
	if err == nil {
		_, err = w.Write([]byte(text + "\n"))
	}
	if err == nil {
		err = w.Close()
	}
	if err != nil {
		return failed(fmt.Errorf("clear-sign for %s: %w", c.Sender, err))
	}
	return done("the text, signed by the list's key:\n\n%s", strings.TrimRight(b.String(), "\n"))
}
