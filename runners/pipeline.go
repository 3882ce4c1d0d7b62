package runners

import (
	"context"
	"errors"
	"strings"

	"cloister/handlers"
	"cloister/internal/decision"
	"cloister/internal/listaddr"
	"cloister/internal/refusal"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
	"cloister/queue"
	"cloister/resend"
	"cloister/rules"
)

// Pipeline runs an accepted post through the list's handlers (List-* headers,
// subject prefix, footer, ...; see package handlers), then hands one copy to
// the archive queue and one, addressed to every member who receives posts, to
// the outgoing queue.
type Pipeline struct {
	// Resolver answers the dmarc handler's DNS TXT lookups; nil means the
	// process's one cache in front of the system resolver (systemDMARC),
	// so that posts from one domain ask DNS once per TTL.
	Resolver handlers.DMARCResolver
}

// systemDMARC is the DMARC resolver of every Pipeline that names none: the
// system resolver behind one cache for the life of the process.
var systemDMARC = handlers.SystemResolver()

// resolver returns the Pipeline's DMARC resolver.
func (p Pipeline) resolver() handlers.DMARCResolver {
	if p.Resolver != nil {
		return p.Resolver
	}
	return systemDMARC
}

// Name implements Runner.
func (Pipeline) Name() string { return "pipeline" }

// Queue implements Runner.
func (Pipeline) Queue() string { return queue.Pipeline }

// Description implements Runner.
func (Pipeline) Description() string {
	return "run the list's handlers over an accepted post, then hand it to archive and outgoing"
}

// Process implements Runner.
func (p Pipeline) Process(ctx context.Context, j *Job) error {
	body, err := j.Body()
	if err != nil {
		return err
	}
	msg, err := mailmsg.Parse(body)
	if err != nil {
		return Permanent("unreadable message header: %v", err)
	}
	list, rcpts, err := listWith(j.Site, j.Meta.List, (*lists.Member).Receives)
	if err != nil {
		return err
	}
	m := j.Meta.Clone()
	if orders, bad, ok := resend.Take(msg); ok {
		rj := &resend.Job{Site: j.Site, Log: j.Log, Now: j.Now, Send: j.Send}
		if err := resend.Run(ctx, rj, list, m, msg, orders, bad, rcpts); err != nil {
			return err
		}
	}
	if takeAttachListkey(msg) {
		attached, err := attachListKey(j.Site, list, msg)
		if err != nil {
			return err
		}
		j.Log.Info("decision", "decision", decision.AttachListKey, "attached", attached)
	}
	hctx := &handlers.Context{
		List:     list,
		Domain:   j.Site.Config.Domain,
		Meta:     m,
		Msg:      msg,
		Resolver: p.resolver(),
		Now:      j.Now,
		Ctx:      ctx,
	}
	ran, err := handlers.Run(handlers.DefaultPipeline(), hctx)
	var rej *refusal.RejectError
	switch {
	case errors.Is(err, refusal.ErrDiscard):
		j.Log.Info("decision", "decision", decision.Discard, "handlers", ran)
		return nil
	case errors.As(err, &rej):
		// A handler's reason is a format of its own and its arguments
		// (rendered through the catalogue like the rules' reasons).
		why := rej.Reason
		if m.ArrivedEncrypted() {
			// The reason may name what the decrypted post holds (its
			// parts' types): the log and the clear notice get fixed words.
			why = rules.Reasonf("the list's %s step refused it (for a post that arrived encrypted, the details are not given in clear)", rej.Step)
			rej = &refusal.RejectError{Step: rej.Step, Reason: why}
		}
		j.Log.Info("decision", "decision", decision.Reject, "handler", rej.Step, "reason", rej.Reason.String())
		if !notices.ShouldNotAnswer(m, msg) {
			n, err := notices.ForList(j.Site, list, "reject", m.Sender, map[string]any{
				"List":         list.Address,
				"Subject":      notices.ClearSubject(m, msg),
				"Reason":       why,
				"OwnerAddress": listaddr.Address(list.Address, queue.SubOwner),
			})
			if err != nil {
				return err
			}
			j.Send(queue.Out, n.MetaFrom("notice", m, false, m.Sender), n.Bytes(j.Now))
		}
		return nil
	case err != nil:
		return err
	}
	m.AddStage("pipeline", "")
	// The archive runner stores the post (unless archive is none) and feeds
	// the digests, so every distributed post goes there.
	j.SendMessage(queue.Archive, m.Clone(), msg)
	m.Kind = "post"
	m.Recipients = withoutAuthor(list, m, rcpts)
	m.EnvFrom = listaddr.Address(list.Address, queue.SubBounces)
	j.SendMessage(queue.Out, m, msg)
	j.Log.Info("decision", "decision", decision.Distribute, "recipients", len(m.Recipients), "handlers", ran)
	return nil
}

// withoutAuthor removes the post's author (its From address) from the
// recipients when the list has deliver_selfsent off.
func withoutAuthor(list *lists.List, m *queue.Meta, rcpts []string) []string {
	if list.Settings.DeliverSelfsent || m.From == "" {
		return rcpts
	}
	out := make([]string, 0, len(rcpts))
	for _, r := range rcpts {
		if !strings.EqualFold(r, m.From) {
			out = append(out, r)
		}
	}
	return out
}
