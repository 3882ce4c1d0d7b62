package commands

import (
	"context"
	"strings"

	"cloister/service"
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
	return c.moderate(args, 1, phrase("usage: approve ID"), func(a service.Actor, ref service.HeldRef) error {
		return c.service().HeldApprove(context.Background(), a, ref)
	}, phrase("approved: it goes to the list"))
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
	return c.moderate(args, -1, phrase("usage: reject ID [REASON]"), func(a service.Actor, ref service.HeldRef) error {
		return c.service().HeldReject(context.Background(), a, service.HeldRejectRequest{List: ref.List, ID: ref.ID, Reason: strings.Join(args[1:], " ")})
	}, phrase("rejected: its sender is told"))
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
	return c.moderate(args, 1, phrase("usage: discard ID"), func(a service.Actor, ref service.HeldRef) error {
		return c.service().HeldDiscard(context.Background(), a, ref)
	}, phrase("discarded"))
}

// moderate checks the arguments (n of them, or at least one when n < 0),
// then has the service layer decide: it authorizes with the moderate
// scenario before it looks the post up on this list.
func (c *Context) moderate(args []string, n int, use phrase, decide func(a service.Actor, ref service.HeldRef) error, what phrase) Result {
	if (n >= 0 && len(args) != n) || len(args) < 1 {
		return refused("%s", use)
	}
	id := strings.ToLower(args[0])
	a := c.actor()
	a.Name = c.Sender + " (signed command)"
	err := decide(a, service.HeldRef{List: c.List.Address, ID: id})
	switch service.Code(err) {
	case "":
		return done("post %s %s", id, what)
	case service.CodeNotFound:
		return refused("no held post %s on %s", id, c.List.Address)
	}
	return serviceResult(err)
}
