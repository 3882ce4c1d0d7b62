package commands

import (
	"strings"

	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/queue"
)

// Info describes the list: its description, addresses and policies.
type Info struct{}

// Name implements Command.
func (Info) Name() string { return "info" }

// Aliases implements Command.
func (Info) Aliases() []string { return nil }

// Args implements Command.
func (Info) Args() string { return "" }

// Help implements Command.
func (Info) Help() string { return "what the list is, how to join it and its key" }

// Operation implements Command.
func (Info) Operation() string { return "" }

// Run implements Command. A list that is not advertised shows its
// details to the people on it only.
func (Info) Run(c *Context, args []string) Result {
	l := c.List
	st := l.Settings
	if !st.Advertised && !c.onList() {
		return done("%s is not advertised; ask its owners at %s", l.Address, listaddr.Address(l.Address, queue.SubOwner))
	}
	var b strings.Builder
	b.WriteString(c.tr("List:          %s\n", l.Address))
	if l.Description != "" {
		b.WriteString(c.tr("Description:   %s\n", l.Description))
	}
	b.WriteString(c.tr("Subscribing:   %s (%s)\n", policyText(st.SubscribePolicy), listaddr.Address(l.Address, queue.SubJoin)))
	b.WriteString(c.tr("Leaving:       %s (%s)\n", policyText(st.UnsubscribePolicy), listaddr.Address(l.Address, queue.SubLeave)))
	b.WriteString(c.tr("Posting:       scenario %s\n", st.Send))
	b.WriteString(c.tr("Owners:        %s\n", listaddr.Address(l.Address, queue.SubOwner)))
	if c.Site.Keys != nil {
		if k, err := c.Site.Keys.ListPGP(l.Address); err == nil {
			b.WriteString(c.tr("OpenPGP key:   %X (send \"key get\" for it)\n", k.PrimaryKey.Fingerprint))
		}
		if cert, _, _, err := c.Site.Keys.ListSMIME(l.Address); err == nil {
			b.WriteString(c.tr("S/MIME:        certificate %s, serial %s\n", certName(cert), cert.SerialNumber))
		}
	}
	if st.PGPPostEncrypt != "no" || st.SMIMEPostEncrypt != "no" {
		b.WriteString(c.tr("Encryption:    posts may be encrypted to the list's key\n"))
	}
	return done("%s", strings.TrimRight(b.String(), "\n"))
}

func policyText(p string) phrase {
	switch p {
	case "open":
		return phrase("at once")
	case "confirm":
		return phrase("after you confirm your address")
	case "approve":
		return phrase("after an owner approves")
	case "confirm+approve":
		return phrase("after you confirm your address and an owner approves")
	}
	return phrase(p)
}

// onList reports whether the sender holds any role on the list.
func (c *Context) onList() bool {
	on := false
	c.Site.Lists.View(func(tx *lists.Tx) error {
		_, err := tx.Member(c.List.Address, c.Sender)
		on = err == nil
		return nil
	})
	return on
}
