package commands

import (
	"errors"
	"strings"

	"cloister/lists"
	"cloister/rules"
)

// Add subscribes an address at once, on an owner's signed request.
type Add struct{}

// Name implements Command.
func (Add) Name() string { return "add" }

// Aliases implements Command.
func (Add) Aliases() []string { return nil }

// Args implements Command.
func (Add) Args() string { return "ADDRESS [NAME]" }

// Help implements Command.
func (Add) Help() string { return "(owners) subscribe ADDRESS at once" }

// Operation implements Command.
func (Add) Operation() string { return OpAdmin }

// Run implements Command.
func (Add) Run(c *Context, args []string) Result {
	if len(args) < 1 {
		return refused("usage: add ADDRESS [NAME]")
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
		return refused("%q is not an address this list can take", args[0])
	}
	name := strings.Trim(strings.Join(args[1:], " "), "\"")
	err = c.Site.Lists.Update(func(tx *lists.Tx) error {
		m, err := tx.Member(c.List.Address, addr)
		if errors.Is(err, lists.ErrNoMember) {
			return tx.AddMember(c.List.Address, &lists.Member{Address: addr, Name: name})
		}
		if err != nil {
			return err
		}
		if m.IsSubscriber() {
			return lists.ErrMemberExists
		}
		m.AddRole(lists.RoleMember)
		return tx.PutMember(c.List.Address, m)
	})
	if errors.Is(err, lists.ErrMemberExists) {
		return done("%s is already subscribed", addr)
	}
	if err != nil {
		return refused("%s cannot be added: %v", addr, err)
	}
	c.welcome(addr)
	return done("%s is subscribed to %s", addr, c.List.Address)
}
