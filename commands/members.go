package commands

import (
	"context"
	"fmt"
	"strings"

	"cloister/service"
)

// Members shows the whole roster, with roles and delivery, to owners.
type Members struct{}

// Name implements Command.
func (Members) Name() string { return "members" }

// Aliases implements Command.
func (Members) Aliases() []string { return nil }

// Args implements Command.
func (Members) Args() string { return "" }

// Help implements Command.
func (Members) Help() string { return "(owners) every address on the list with its roles and delivery" }

// Operation implements Command.
func (Members) Operation() string { return OpAdmin }

// Run implements Command: the service layer authorizes (the admin
// scenario) and reads the roster.
func (Members) Run(c *Context, args []string) Result {
	ms, err := c.service().MemberList(context.Background(), c.actor(), service.MemberListRequest{List: c.List.Address})
	if err != nil {
		return serviceResult(err)
	}
	var b strings.Builder
	for i, m := range ms {
		if i == maxRoster {
			b.WriteString(c.tr("  ... and %d more (ask the server's operator for the whole list)\n", len(ms)-maxRoster))
			break
		}
		fmt.Fprintf(&b, "  %s  %s  delivery %s", m.Address, strings.Join(m.Roles, ","), m.Delivery)
		if m.Name != "" {
			fmt.Fprintf(&b, "  %q", m.Name)
		}
		b.WriteByte('\n')
	}
	return done("%d on %s:\n%s", len(ms), c.List.Address, strings.TrimRight(b.String(), "\n"))
}
