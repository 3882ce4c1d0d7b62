package runners

import (
	"context"
	"errors"
	"net"
	"strings"

	"cloister/handlers"
	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
	"cloister/queue"
	"cloister/resend"
)

// Pipeline runs an accepted post through the list's handlers (List-* headers,
// subject prefix, footer, ...; see package handlers), then hands one copy to
// the archive queue and one, addressed to every member who receives posts, to
// the outgoing queue.
type Pipeline struct{}

// Name implements Runner.
func (Pipeline) Name() string { return "pipeline" }

// Queue implements Runner.
func (Pipeline) Queue() string { return queue.Pipeline }

// Description implements Runner.
func (Pipeline) Description() string {
	return "run the list's handlers over an accepted post, then hand it to archive and outgoing"
}

// Process implements Runner.
func (Pipeline) Process(ctx context.Context, j *Job) error {
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
		j.Log.Info("decision", "decision", "attach-listkey", "attached", attached)
	}
	hctx := &handlers.Context{
		List:     list,
		Domain:   j.Site.Config.Domain,
		Meta:     m,
		Msg:      msg,
		Resolver: net.DefaultResolver,
		Now:      j.Now,
		Ctx:      ctx,
	}
	ran, err := handlers.Run(handlers.DefaultPipeline(), hctx)
	var rej *handlers.RejectError
	switch {
	case errors.Is(err, handlers.ErrDiscard):
		j.Log.Info("decision", "decision", "discard", "handlers", ran)
		return nil
	case errors.As(err, &rej):
		if encrypted(m) {
			// The reason may name what the decrypted post holds (its
			// parts' types): the log and the clear notice get fixed words.
			rej = &handlers.RejectError{Handler: rej.Handler,
				Reason: "the list's " + rej.Handler + " step refused it (for a post that arrived encrypted, the details are not given in clear)"}
		}
		j.Log.Info("decision", "decision", "reject", "handler", rej.Handler, "reason", rej.Reason)
		if !notices.ShouldNotAnswer(m, msg) {
			n := &Notice{
				List:    list.Address,
				From:    listaddr.Address(list.Address, queue.SubOwner),
				To:      m.Sender,
				Subject: "Your post to " + list.Address + " was not distributed",
				Body:    "Your post to " + list.Address + " was not distributed: " + rej.Reason + "\n",
			}
			j.Send(queue.Out, n.MetaFrom("notice", m, false, m.Sender), n.Bytes(j.Now))
		}
		return nil
	case err != nil:
		return err
	}
	out := msg.Bytes()
	m.AddStage("pipeline", "")
	// The archive runner stores the post (unless archive is none) and feeds
	// the digests, so every distributed post goes there.
	j.Send(queue.Archive, m.Clone(), out)
	m.Kind = "post"
	m.Recipients = withoutAuthor(list, m, rcpts)
	m.EnvFrom = listaddr.Address(list.Address, queue.SubBounces)
	j.Send(queue.Out, m, out)
	j.Log.Info("decision", "decision", "distribute", "recipients", len(m.Recipients), "handlers", ran)
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
