package commands

import (
	"fmt"
	"strings"

	"cloister/listaddr"
	"cloister/queue"
)

// Help lists the commands and the list's addresses.
type Help struct{}

// Name implements Command.
func (Help) Name() string { return "help" }

// Aliases implements Command.
func (Help) Aliases() []string { return []string{"?"} }

// Args implements Command.
func (Help) Args() string { return "" }

// Help implements Command.
func (Help) Help() string { return "this list of commands" }

// Operation implements Command.
func (Help) Operation() string { return "" }

// Run implements Command.
func (Help) Run(c *Context, args []string) Result { return done("%s", HelpText(c.List.Address)) }

// HelpText is the help for a list: its addresses and every command.
func HelpText(list string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "This is the Cloister list server for %s.\n\n", list)
	fmt.Fprintf(&b, "To post to the list, write to:   %s\n", list)
	fmt.Fprintf(&b, "To reach the list owners:        %s\n", listaddr.Address(list, queue.SubOwner))
	fmt.Fprintf(&b, "To subscribe:                    %s\n", listaddr.Address(list, queue.SubJoin))
	fmt.Fprintf(&b, "To unsubscribe:                  %s\n", listaddr.Address(list, queue.SubLeave))
	fmt.Fprintf(&b, "For commands:                    %s\n\n", listaddr.Address(list, queue.SubRequest))
	b.WriteString("Write one command per line in the body of a message to the commands\n" +
		"address (or a single command as its Subject). Reading stops at a line\n" +
		"\"end\", at a signature \"-- \" and at the first quoted \">\" line.\n" +
		"A signed command mail must carry the line \"x-list-name " + list + "\".\n\n")
	for _, c := range All {
		u := usage(c)
		if len(c.Aliases()) > 0 && c.Aliases()[0] != "?" {
			u += " (or " + strings.Join(c.Aliases(), ", ") + ")"
		}
		fmt.Fprintf(&b, "  %s\n      %s\n", u, c.Help())
	}
	return strings.TrimRight(b.String(), "\n")
}
