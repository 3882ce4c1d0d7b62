package commands

import (
	"fmt"
	"strings"

	"cloister/internal/listaddr"
	"cloister/mailtext"
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
func (Help) Run(c *Context, args []string) Result { return done("%s", c.helpText()) }

// HelpText is the help for a list: its addresses and every command, in
// English.
func HelpText(list string) string { return helpText(nil, list) }

// helpText is the help in the list's language.
func (c *Context) helpText() string { return helpText(c.catalog(), c.List.Address) }

func helpText(cat *mailtext.Catalog, list string) string {
	var b strings.Builder
	b.WriteString(cat.Sprintf("This is the Cloister list server for %s.\n\n", list))
	b.WriteString(cat.Sprintf("To post to the list, write to:   %s\n", list))
	b.WriteString(cat.Sprintf("To reach the list owners:        %s\n", listaddr.Address(list, queue.SubOwner)))
	b.WriteString(cat.Sprintf("To subscribe:                    %s\n", listaddr.Address(list, queue.SubJoin)))
	b.WriteString(cat.Sprintf("To unsubscribe:                  %s\n", listaddr.Address(list, queue.SubLeave)))
	b.WriteString(cat.Sprintf("For commands:                    %s\n\n", listaddr.Address(list, queue.SubRequest)))
	b.WriteString(cat.Sprintf("Write one command per line in the body of a message to the commands\n"+
		"address (or a single command as its Subject). Reading stops at a line\n"+
		"\"end\", at a signature \"-- \" and at the first quoted \">\" line.\n"+
		"A signed command mail must carry the line \"x-list-name %s\".\n\n", list))
	for _, c := range All {
		u := usage(c)
		if len(c.Aliases()) > 0 && c.Aliases()[0] != "?" {
			u += cat.Sprintf(" (or %s)", strings.Join(c.Aliases(), ", "))
		}
		fmt.Fprintf(&b, "  %s\n      %s\n", u, cat.T(c.Help()))
	}
	return strings.TrimRight(b.String(), "\n")
}
