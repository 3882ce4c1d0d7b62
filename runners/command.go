package runners

import (
	"context"
	"strings"

	"cloister/commands"
	"cloister/internal/decision"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/moderation"
	"cloister/ownmail"
	"cloister/queue"
	"cloister/replay"
)

// Command handles mail to a list's other addresses. -owner mail is forwarded
// to the owners; -bounces mail is logged (bounce processing comes with the
// bounce runner); mail to -request, -join, -leave, -confirm+TOKEN and
// -sendkey carries email commands, which package commands reads and carries
// out, with one reply per mail.
type Command struct{}

// Name implements Runner.
func (Command) Name() string { return "command" }

// Queue implements Runner.
func (Command) Queue() string { return queue.Command }

// Description implements Runner.
func (Command) Description() string {
	return "carry out email commands (-request, -join, -leave, -confirm), forward -owner mail to the owners, record bounces"
}

// Process implements Runner.
func (Command) Process(ctx context.Context, j *Job) error {
	body, err := j.Body()
	if err != nil {
		return err
	}
	msg, err := mailmsg.Parse(body)
	if err != nil {
		return Permanent("unreadable message header: %v", err)
	}
	list, owners, err := listWith(j.Site, j.Meta.List, (*lists.Member).IsOwner)
	if err != nil {
		return err
	}
	switch j.Meta.Subaddress {
	case queue.SubBounces:
		j.Log.Info("decision", "decision", decision.BounceRecorded, "extension", j.Meta.Extension, "from", j.Meta.Sender)
		return nil
	case queue.SubOwner:
		if len(owners) == 0 {
			j.Log.Warn("decision", "decision", decision.OwnerMailKeptInBad, "reason", "the list has no owner")
			return Permanent("mail for the owners of %s, and the list has no owner", list.Address)
		}
		if loops(j.Meta, msg) {
			j.Log.Info("decision", "decision", decision.Discard, "rule", "loop")
			return nil
		}
		if ok, err := scanOwnerMail(ctx, j, list, msg, body); !ok {
			return err
		}
		// The forward carries the mail: one that arrived encrypted leaves only
		// encrypted to each owner's key (package ownmail).
		m := ownmail.Meta(list.Address, "forward", j.Meta, true, j.Now, owners...)
		m.Subaddress = queue.SubOwner
		m.AddStage("command", "forward to owners")
		j.Send(queue.Out, m, body)
		j.Log.Info("decision", "decision", decision.ForwardedToOwners, "owners", len(owners))
		return nil
	}
	out, err := commands.Handle(&commands.Request{
		Site: j.Site, List: list, Meta: j.Meta, Body: body, Now: j.Now,
		Scenarios: moderation.Scenarios(j.Site), KeyStore: keyStore(j.Site),
		Replay: replay.ForSite(j.Site.Config.StateDir),
	})
	if err != nil {
		return err
	}
	if out.NoReply != "" {
		j.Log.Info("decision", "decision", decision.NoReply, "reason", out.NoReply)
		return nil
	}
	for _, o := range out.Mail {
		m := ownmail.Reply(list.Address, j.Meta, o.Kind, o.To, o.Sealed, o.Confidential, j.Now)
		m.AddStage("command", o.Kind)
		j.Send(queue.Out, m, o.Data)
	}
	j.Log.Info("decision", "decision", decision.Commands, "from", j.Meta.From, "auth", j.Meta.Auth,
		"subaddress", j.Meta.Subaddress, "results", out.Summary, "mails", len(out.Mail))
	return nil
}

// keyStore returns where the key commands change subscriber keys: the
// site's KeyStore when set (tests), else its keyring's; nil refuses key
// changes by mail.
func keyStore(s *site.Site) commands.KeyStore {
	switch {
	case s.KeyStore != nil:
		return s.KeyStore
	case s.Keyring != nil:
		return commands.KeyringStore{K: s.Keyring}
	}
	return nil
}

func loops(m *queue.Meta, msg *mailmsg.Message) bool {
	for _, v := range msg.Values("X-Loop") {
		if strings.EqualFold(strings.TrimSpace(v), m.List) {
			return true
		}
	}
	return false
}
