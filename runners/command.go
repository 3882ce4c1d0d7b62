package runners

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"cloister/listaddr"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/queue"
)

// Command handles mail to a list's other addresses. -owner mail is forwarded
// to the owners; -bounces mail is logged (bounce processing comes with the
// bounce runner); mail to -request, -join, -leave, -confirm and -sendkey is
// answered with the list's help text. The email commands themselves replace
// that answer in the commands work.
type Command struct{}

// Name implements Runner.
func (Command) Name() string { return "command" }

// Queue implements Runner.
func (Command) Queue() string { return queue.Command }

// Description implements Runner.
func (Command) Description() string {
	return "answer -request mail, forward -owner mail to the owners, record bounces"
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
	var list *lists.List
	var owners []string
	err = j.Site.Lists.View(func(tx *lists.Tx) error {
		var err error
		if list, err = tx.List(j.Meta.List); err != nil {
			return err
		}
		return tx.ForEachMember(j.Meta.List, func(m *lists.Member) error {
			if m.IsOwner() {
				owners = append(owners, m.Address)
			}
			return nil
		})
	})
	if errors.Is(err, lists.ErrNoList) {
		return Permanent("list %s no longer exists", j.Meta.List)
	}
	if err != nil {
		return err
	}
	switch j.Meta.Subaddress {
	case queue.SubBounces:
		j.Log.Info("decision", "decision", "bounce recorded", "extension", j.Meta.Extension, "from", j.Meta.Sender)
		return nil
	case queue.SubOwner:
		if len(owners) == 0 {
			j.Log.Warn("decision", "decision", "owner mail kept in bad", "reason", "the list has no owner")
			return Permanent("mail for the owners of %s, and the list has no owner", list.Address)
		}
		if loops(j.Meta, msg) {
			j.Log.Info("decision", "decision", "discard", "rule", "loop")
			return nil
		}
		m := &queue.Meta{
			List: list.Address, Subaddress: queue.SubOwner, Kind: "forward", Recipients: owners,
			EnvFrom: listaddr.Address(list.Address, queue.SubBounces), Received: j.Now,
			Encryption: j.Meta.Encryption, Sealed: j.Meta.Sealed,
		}
		m.AddStage("command", "forward to owners")
		j.Send(queue.Out, m, body)
		j.Log.Info("decision", "decision", "forwarded to owners", "owners", len(owners))
		return nil
	}
	if shouldNotAnswer(j.Meta, msg) {
		j.Log.Info("decision", "decision", "no reply", "reason", "automatic or bulk mail")
		return nil
	}
	to := j.Meta.Sender
	if rt := msg.Addresses("Reply-To"); len(rt) == 1 {
		to = rt[0]
	}
	n := &Notice{
		List:      list.Address,
		From:      listaddr.Address(list.Address, queue.SubRequest),
		To:        to,
		Subject:   "Re: " + strings.TrimSpace(mailmsg.DecodeHeader(msg.Get("Subject"))),
		InReplyTo: msg.Get("Message-ID"),
		Body:      helpText(list),
	}
	j.Send(queue.Out, n.Meta("reply", to), n.Bytes(j.Now))
	j.Log.Info("decision", "decision", "replied", "to", to, "subaddress", j.Meta.Subaddress)
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

func helpText(l *lists.List) string {
	return fmt.Sprintf(`This is the Cloister list server for %s.

To post to the list, write to:   %s
To reach the list owners:        %s
To subscribe:                    %s
To unsubscribe:                  %s
For this help:                   %s

Email commands for subscriptions and keys are sent to %s,
one command per line. This server answers every message to that
address with this help text.
`, l.Address, l.Address, listaddr.Address(l.Address, queue.SubOwner),
		listaddr.Address(l.Address, queue.SubJoin), listaddr.Address(l.Address, queue.SubLeave),
		listaddr.Address(l.Address, queue.SubRequest), listaddr.Address(l.Address, queue.SubRequest))
}
