package commands

// End stops reading the command mail; the parser stops at it.
type End struct{}

// Name implements Command.
func (End) Name() string { return "end" }

// Aliases implements Command.
func (End) Aliases() []string { return []string{"stop", "quit", "thanks"} }

// Args implements Command.
func (End) Args() string { return "" }

// Help implements Command.
func (End) Help() string {
	return "stop reading here (so a signature or a quoted message is not read as commands)"
}

// Operation implements Command.
func (End) Operation() string { return "" }

// Run implements Command.
func (End) Run(c *Context, args []string) Result { return done("the rest of the message is not read") }
