package commands

// Confirm returns a token: a confirmation of a subscription or another
// request, an owner's approval, or the confirmation of a post. Mail to
// LIST-confirm+TOKEN does the same.
type Confirm struct{}

// Name implements Command.
func (Confirm) Name() string { return "confirm" }

// Aliases implements Command.
func (Confirm) Aliases() []string { return nil }

// Args implements Command.
func (Confirm) Args() string { return "TOKEN" }

// Help implements Command.
func (Confirm) Help() string {
	return "confirm a request with the token you were sent (each token works once)"
}

// Operation implements Command.
func (Confirm) Operation() string { return "" }

// Run implements Command.
func (Confirm) Run(c *Context, args []string) Result {
	if len(args) != 1 {
		return refused("usage: confirm TOKEN")
	}
	return c.confirmToken(args[0])
}
