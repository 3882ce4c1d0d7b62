package commands

import (
	"context"
	"strings"

	"cloister/lists"
	"cloister/service"
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

// Run implements Command: the service layer authorizes (the admin
// scenario) and takes the member role away.
func (Remove) Run(c *Context, args []string) Result {
	if len(args) != 1 {
		return refused("usage: remove ADDRESS")
	}
	err := c.service().MemberRemove(context.Background(), c.actor(), service.MemberRemoveRequest{
		List: c.List.Address, Address: args[0]})
	if err != nil {
		return serviceResult(err)
	}
	addr, _ := lists.CanonicalAddress(strings.Trim(args[0], "<>"))
	return done("%s is unsubscribed from %s", addr, c.List.Address)
}
