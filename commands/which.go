package commands

import (
	"fmt"
	"strings"

	"cloister/lists"
)

// Which lists the lists of this site that the sender is on.
type Which struct{}

// Name implements Command.
func (Which) Name() string { return "which" }

// Aliases implements Command.
func (Which) Aliases() []string { return []string{"lists"} }

// Args implements Command.
func (Which) Args() string { return "" }

// Help implements Command.
func (Which) Help() string {
	return "the lists of this server you are on, and your roles (the reply goes to your own address)"
}

// Operation implements Command.
func (Which) Operation() string { return "" }

// Run implements Command. The answer goes to the sender's own address, so a
// forged From only tells its owner what they are on; it lists every list
// the address holds a role on, advertised or not.
func (Which) Run(c *Context, args []string) Result {
	var b strings.Builder
	err := c.Site.Lists.View(func(tx *lists.Tx) error {
		addrs, err := tx.ListsOf(c.Sender)
		if err != nil {
			return err
		}
		for _, a := range addrs {
			m, err := tx.Member(a, c.Sender)
			if err != nil {
				continue
			}
			var roles []string
			for _, r := range m.Roles {
				roles = append(roles, string(r))
			}
			extra := ""
			if m.IsSubscriber() && m.Delivery == lists.DeliveryDisabled {
				extra = ", delivery off"
			}
			fmt.Fprintf(&b, "  %s (%s%s)\n", a, strings.Join(roles, ", "), extra)
		}
		return nil
	})
	if err != nil {
		return failed(err)
	}
	if b.Len() == 0 {
		return done("%s is on no list of this server", c.Sender)
	}
	return done("%s is on:\n%s", c.Sender, strings.TrimRight(b.String(), "\n"))
}
