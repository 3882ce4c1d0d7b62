package commands

import (
	"errors"
	"strings"

	"cloister/lists"
	"cloister/rules"
)

// Approve sends a held post on, on a moderator's signed request.
type Approve struct{}

// Name implements Command.
func (Approve) Name() string { return "approve" }

// Aliases implements Command.
func (Approve) Aliases() []string { return nil }

// Args implements Command.
func (Approve) Args() string { return "ID" }

// Help implements Command.
func (Approve) Help() string { return "(moderators) distribute the held post ID" }

// Operation implements Command.
func (Approve) Operation() string { return OpModerate }

// Run implements Command.
func (Approve) Run(c *Context, args []string) Result {
	return c.moderate(args, 1, "usage: approve ID", func(id string) error {
		return c.Mod.Approve(c.Site, id, c.Sender+" (signed command)")
	}, "approved: it goes to the list")
}

// RejectCmd refuses a held post with an optional reason, on a moderator's
// signed request; the sender is told.
type RejectCmd struct{}

// Name implements Command.
func (RejectCmd) Name() string { return "reject" }

// Aliases implements Command.
func (RejectCmd) Aliases() []string { return nil }

// Args implements Command.
func (RejectCmd) Args() string { return "ID [REASON]" }

// Help implements Command.
func (RejectCmd) Help() string { return "(moderators) refuse the held post ID; its sender gets REASON" }

// Operation implements Command.
func (RejectCmd) Operation() string { return OpModerate }

// Run implements Command.
func (RejectCmd) Run(c *Context, args []string) Result {
	return c.moderate(args, -1, "usage: reject ID [REASON]", func(id string) error {
		return c.Mod.Reject(c.Site, id, strings.Join(args[1:], " "), c.Sender+" (signed command)")
	}, "rejected: its sender is told")
}

// DiscardCmd drops a held post silently, on a moderator's signed request.
type DiscardCmd struct{}

// Name implements Command.
func (DiscardCmd) Name() string { return "discard" }

// Aliases implements Command.
func (DiscardCmd) Aliases() []string { return nil }

// Args implements Command.
func (DiscardCmd) Args() string { return "ID" }

// Help implements Command.
func (DiscardCmd) Help() string { return "(moderators) drop the held post ID without telling anyone" }

// Operation implements Command.
func (DiscardCmd) Operation() string { return OpModerate }

// Run implements Command.
func (DiscardCmd) Run(c *Context, args []string) Result {
	return c.moderate(args, 1, "usage: discard ID", func(id string) error {
		return c.Mod.Discard(c.Site, id, c.Sender+" (signed command)")
	}, "discarded")
}

// moderate checks the arguments (n of them, or at least one when n < 0),
// the moderate scenario and that the held post belongs to this list, then
// decides.
func (c *Context) moderate(args []string, n int, use string, decide func(id string) error, what string) Result {
	if (n >= 0 && len(args) != n) || len(args) < 1 {
		return refused("%s", use)
	}
	d, err := c.Authorize(OpModerate)
	if err != nil {
		return failed(err)
	}
	if d.Action != rules.ScenarioDoIt {
		return refusal(d)
	}
	if c.Mod.Approve == nil {
		return failed(errors.New("no moderation"))
	}
	id := strings.ToLower(args[0])
	var h *lists.Held
	err = c.Site.Lists.View(func(tx *lists.Tx) error {
		var err error
		h, err = tx.Held(id)
		return err
	})
	if err != nil || !strings.EqualFold(h.List, c.List.Address) {
		return refused("no held post %s on %s", id, c.List.Address)
	}
	if err := decide(id); err != nil {
		return failed(err)
	}
	return done("post %s %s", id, what)
}
