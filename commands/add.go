package commands

import (
	"context"
	"strings"

	"cloister/lists"
	"cloister/service"
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

// Run implements Command: the service layer authorizes (the admin
// scenario) and adds the address.
func (Add) Run(c *Context, args []string) Result {
	if len(args) < 1 {
		return refused("usage: add ADDRESS [NAME]")
	}
	name := strings.Trim(strings.Join(args[1:], " "), "\"")
	m, err := c.service().MemberAdd(context.Background(), c.actor(), service.MemberAddRequest{
		List: c.List.Address, Address: args[0], Name: name})
	switch service.Code(err) {
	case "":
	case service.CodeConflict:
		addr, _ := lists.CanonicalAddress(strings.Trim(args[0], "<>"))
		return done("%s is already subscribed", addr)
	default:
		return serviceResult(err)
	}
	c.welcome(m.Address)
	return done("%s is subscribed to %s", m.Address, c.List.Address)
}
