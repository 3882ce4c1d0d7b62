package commands

import (
	"fmt"
	"strings"

	"cloister/lists"
	"cloister/rules"
)

// Keys lists the keys and certificates the list holds for its subscribers
// (Schleuder's x-list-keys), to those who may see the roster.
type Keys struct{}

// Name implements Command.
func (Keys) Name() string { return "keys" }

// Aliases implements Command.
func (Keys) Aliases() []string { return []string{"x-list-keys"} }

// Args implements Command.
func (Keys) Args() string { return "" }

// Help implements Command.
func (Keys) Help() string {
	return "the subscribers and the fingerprints of their OpenPGP keys and S/MIME certificates, if the list lets you see its members"
}

// Operation implements Command.
func (Keys) Operation() string { return "review" }

// Run implements Command. It shows what who shows, with each subscriber's
// key fingerprints: the review scenario and the roster setting decide.
func (Keys) Run(c *Context, args []string) Result {
	if r, ok := mayReview(c); !ok {
		return r
	}
	if c.KeyStore == nil {
		return refused("this server keeps no subscriber keys")
	}
	var b strings.Builder
	n := 0
	err := c.Site.Lists.View(func(tx *lists.Tx) error {
		return tx.ForEachMember(c.List.Address, func(m *lists.Member) error {
			if !m.IsSubscriber() {
				return nil
			}
			n++
			if n > maxRoster {
				return nil
			}
			fmt.Fprintf(&b, "  %s\n", m.Address)
			if fpr, err := c.KeyStore.SubscriberPGP(m.Address); err == nil && fpr != "" {
				fmt.Fprintf(&b, "    OpenPGP %s\n", fpr)
			}
			if certs, err := c.KeyStore.SubscriberCerts(m.Address); err == nil {
				for _, f := range certs {
					fmt.Fprintf(&b, "    S/MIME %s\n", f)
				}
			}
			return nil
		})
	})
	if err != nil {
		return failed(err)
	}
	if n > maxRoster {
		fmt.Fprintf(&b, "  ... and %d more\n", n-maxRoster)
	}
	return done("%d on %s:\n%s", n, c.List.Address, strings.TrimRight(b.String(), "\n"))
}

// mayReview applies the review scenario and the roster setting, as who does.
func mayReview(c *Context) (Result, bool) {
	d, err := c.Authorize("review")
	if err != nil {
		return failed(err), false
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d), false
	}
	if c.List.Settings.Roster == "owners" && !c.isOwner() && !c.isListmaster() {
		return refused("only the list owners may see the member list"), false
	}
	return Result{}, true
}
