package commands

import "cloister/rules"

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

// Run implements Command.
func (Members) Run(c *Context, args []string) Result {
	d, err := c.Authorize(OpAdmin)
	if err != nil {
		return failed(err)
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d)
	}
	return roster(c, true)
}
