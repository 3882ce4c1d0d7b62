package commands

import (
	"fmt"
	"strings"

	"cloister/lists"
	"cloister/rules"
)

// maxRoster bounds the addresses one reply lists.
const maxRoster = 5000

// Who shows the subscribers' addresses to those the review scenario and the
// roster setting allow.
type Who struct{}

// Name implements Command.
func (Who) Name() string { return "who" }

// Aliases implements Command.
func (Who) Aliases() []string { return []string{"review"} }

// Args implements Command.
func (Who) Args() string { return "" }

// Help implements Command.
func (Who) Help() string { return "the list's subscribers, if the list lets you see them" }

// Operation implements Command.
func (Who) Operation() string { return "review" }

// Run implements Command. The review scenario decides; with the roster
// setting "owners", only owners and listmasters see the roster even when the
// scenario allows more.
func (Who) Run(c *Context, args []string) Result {
	d, err := c.Authorize("review")
	if err != nil {
		return failed(err)
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d)
	}
	if c.List.Settings.Roster == "owners" && !c.isOwner() && !c.isListmaster() {
		return refused("only the list owners may see the member list")
	}
	return roster(c, false)
}

// roster lists the subscribers; full adds roles and delivery (members).
func roster(c *Context, full bool) Result {
	var b strings.Builder
	n := 0
	err := c.Site.Lists.View(func(tx *lists.Tx) error {
		return tx.ForEachMember(c.List.Address, func(m *lists.Member) error {
			if !full && !m.IsSubscriber() {
				return nil
			}
			n++
			if n > maxRoster {
				return nil
			}
			if !full {
				fmt.Fprintf(&b, "  %s\n", m.Address)
				return nil
			}
			var roles []string
			for _, r := range m.Roles {
				roles = append(roles, string(r))
			}
			fmt.Fprintf(&b, "  %s  %s  delivery %s", m.Address, strings.Join(roles, ","), m.Delivery)
			if m.Name != "" {
				fmt.Fprintf(&b, "  %q", m.Name)
			}
			b.WriteByte('\n')
			return nil
		})
	})
	if err != nil {
		return failed(err)
	}
	if n > maxRoster {
		b.WriteString(c.tr("  ... and %d more (ask the server's operator for the whole list)\n", n-maxRoster))
	}
	return done("%d on %s:\n%s", n, c.List.Address, strings.TrimRight(b.String(), "\n"))
}

// isOwner reports whether the sender owns the list.
func (c *Context) isOwner() bool {
	ok := false
	c.Site.Lists.View(func(tx *lists.Tx) error {
		ok, _ = tx.IsOwner(c.List.Address, c.Sender)
		return nil
	})
	return ok
}

func (c *Context) isListmaster() bool {
	for _, l := range c.Site.Config.Listmasters {
		if sameAddress(l, c.Sender) {
			return true
		}
	}
	return false
}
