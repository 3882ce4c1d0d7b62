package commands

import (
	"strings"

	"cloister/lists"
	"cloister/rules"
)

// Remove unsubscribes an address at once, on an owner's signed request.
type Remove struct{}

// Name implements Command.
func (Remove) Name() string { return "remove" }

// Aliases implements Command.
func (Remove) Aliases() []string { return []string{"delete"} }

// Args implements Command.
func (Remove) Args() string { return "ADDRESS" }

// Help implements Command.
func (Remove) Help() string { return "(owners) unsubscribe ADDRESS at once" }

// Operation implements Command.
func (Remove) Operation() string { return OpAdmin }

// Run implements Command.
func (Remove) Run(c *Context, args []string) Result {
	if len(args) != 1 {
		return refused("usage: remove ADDRESS")
	}
	d, err := c.Authorize(OpAdmin)
	if err != nil {
		return failed(err)
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d)
	}
	addr, err := lists.CanonicalAddress(strings.Trim(args[0], "<>"))
	if err != nil {
		return refused("%q is not an address", args[0])
	}
	if r := dropMember(c, addr); r.Status != Done {
		return r
	}
	return done("%s is unsubscribed from %s", addr, c.List.Address)
}
