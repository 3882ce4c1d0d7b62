package runners

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"cloister/listaddr"
	"cloister/lists"
	"cloister/queue"
	"cloister/site"
)

// Moderation decisions on held posts, shared by the CLI and the email
// commands: approve sends the post on to the pipeline, reject tells the sender
// why, discard drops it silently. Each removes the held record last, so a
// crash leaves the decision to be made again rather than a lost post.

// heldEntry claims the held queue entry of a held record.
func heldEntry(s *site.Site, h *lists.Held) (*queue.Entry, error) {
	name := strings.TrimSuffix(filepath.Base(h.File), ".msg")
	e, err := s.Queue(queue.Held).Claim(name)
	if err != nil {
		return nil, fmt.Errorf("held post %s: %w", h.ID, err)
	}
	return e, nil
}

func heldRecord(s *site.Site, id string) (*lists.Held, error) {
	var h *lists.Held
	err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		h, err = tx.Held(id)
		return err
	})
	return h, err
}

// Approve sends a held post on to the pipeline.
func Approve(s *site.Site, id, by string) error {
	h, err := heldRecord(s, id)
	if err != nil {
		return err
	}
	e, err := heldEntry(s, h)
	if err != nil {
		return err
	}
	m := e.Meta.Clone()
	m.Decision = "approved by " + by
	m.HeldID = ""
	m.AddStage("moderation", "approved by "+by)
	r, err := e.BodyReader()
	if err != nil {
		return err
	}
	err = s.Queue(queue.Pipeline).Handover(m, r)
	r.Close()
	if err != nil {
		return err
	}
	if err := s.Queue(queue.Held).Finish(e); err != nil {
		return err
	}
	s.Log.Info("decision", "decision", "approved", "held_id", id, "list", h.List, "by", by)
	return s.Lists.Update(func(tx *lists.Tx) error { return tx.DeleteHeld(id) })
}

// Reject drops a held post and sends its sender a notice with the reason.
func Reject(s *site.Site, id, reason, by string) error {
	h, err := heldRecord(s, id)
	if err != nil {
		return err
	}
	e, err := heldEntry(s, h)
	if err != nil {
		return err
	}
	if reason == "" {
		reason = "the moderators declined it"
	}
	to := e.Meta.Sender
	if to == "" {
		to = h.Sender
	}
	if to != "" {
		n := &Notice{
			List:    h.List,
			From:    listaddr.Address(h.List, queue.SubOwner),
			To:      to,
			Subject: "Your post to " + h.List + " was rejected",
			Body:    fmt.Sprintf("Your post to %s was rejected by the moderators.\n\nReason: %s\n", h.List, reason),
		}
		nm := n.Meta("notice", to)
		nm.ID = e.Meta.ID + "-rejected"
		if err := s.Queue(queue.Out).Handover(nm, bytesReader(n.Bytes(time.Now()))); err != nil {
			return err
		}
	}
	if err := s.Queue(queue.Held).Finish(e); err != nil {
		return err
	}
	s.Log.Info("decision", "decision", "rejected", "held_id", id, "list", h.List, "by", by, "reason", reason)
	return s.Lists.Update(func(tx *lists.Tx) error { return tx.DeleteHeld(id) })
}

// Discard drops a held post without telling anyone.
func Discard(s *site.Site, id, by string) error {
	h, err := heldRecord(s, id)
	if err != nil {
		return err
	}
	e, err := heldEntry(s, h)
	if err != nil && !errors.Is(err, queue.ErrGone) {
		return err
	}
	if e != nil {
		if err := s.Queue(queue.Held).Finish(e); err != nil {
			return err
		}
	}
	s.Log.Info("decision", "decision", "discarded", "held_id", id, "list", h.List, "by", by)
	return s.Lists.Update(func(tx *lists.Tx) error { return tx.DeleteHeld(id) })
}
