package commands

import (
	"strings"

	"cloister/internal/listlog"
	"cloister/rules"
)

// maxLogReply bounds the log one reply carries.
const maxLogReply = 256 << 10

// Log sends the list's own log of events to its owners (Schleuder's
// x-get-logfile): one line per decision of the runners about the list
// (posts delivered, held, rejected, commands carried out, bounces), with
// who and why, and no content of any post.
type Log struct{}

// Name implements Command.
func (Log) Name() string { return "log" }

// Aliases implements Command.
func (Log) Aliases() []string { return []string{"x-get-logfile"} }

// Args implements Command.
func (Log) Args() string { return "" }

// Help implements Command.
func (Log) Help() string {
	return "(owners) the list's log of events (the latest 256 KiB), attached"
}

// Operation implements Command.
func (Log) Operation() string { return OpAdmin }

// Run implements Command.
func (Log) Run(c *Context, args []string) Result {
	d, err := c.Authorize(OpAdmin)
	if err != nil {
		return failed(err)
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d)
	}
	b, err := listlog.Read(c.Site.Config.ListLogDir(), c.List.Address, maxLogReply)
	if err != nil {
		return failed(err)
	}
	if len(b) == 0 {
		return done("the log of %s is empty", c.List.Address)
	}
	c.attach = append(c.attach, attachment{Type: "text/plain", Name: strings.TrimSuffix(listlog.FileName(c.List.Address), ".log") + ".log.txt", Data: b})
	return done("the log of %s (%d lines) is attached", c.List.Address, strings.Count(string(b), "\n"))
}
