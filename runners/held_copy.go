package runners

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"cloister/lists"
	"cloister/queue"
	"cloister/site"
)

// ErrNoKeyForCopy means a held post cannot be sent to a moderator who has
// no key or certificate the list can encrypt to.
var ErrNoKeyForCopy = errors.New("no key or certificate on file to encrypt the copy to")

// SendHeldCopy mails a held post to one of its list's moderators or
// owners, attached to a notice that leaves only encrypted to their key:
// the notice carries the post's plaintext (queue.CarriesPlaintext), so it
// is sealed at rest and the distributor encrypts it to its recipient or
// sends nothing of it (security invariant 2). The held entry is read, not
// claimed: the post stays held.
func SendHeldCopy(s *site.Site, id, to string) error {
	h, err := heldRecord(s, id)
	if err != nil {
		return err
	}
	var l *lists.List
	if err := s.Lists.View(func(tx *lists.Tx) error { l, err = tx.List(h.List); return err }); err != nil {
		return fmt.Errorf("held post %s: %w", id, err)
	}
	now := time.Now()
	if !canEncrypt(s, l.Address, to, now) {
		return ErrNoKeyForCopy
	}
	name := strings.TrimSuffix(filepath.Base(h.File), ".msg")
	e, err := s.Queue(queue.Held).Peek(name)
	if err != nil {
		return fmt.Errorf("held post %s: %w", id, err)
	}
	body, err := heldBody(s, e)
	if err != nil {
		return err
	}
	n, err := listNotice(s, l, "held_copy", to, map[string]any{
		"List": l.Address, "HeldID": h.ID, "From": h.Sender, "Reason": h.Reason,
		"Expires": h.Expires.UTC().Format(time.RFC1123Z),
	})
	if err != nil {
		return err
	}
	n.Attach = body
	m := n.MetaFrom("notice", e.Meta, true, to)
	m.Carries = queue.CarriesPlaintext
	// The ID is the seal's associated data: set before sealing.
	m.ID = fmt.Sprintf("%s-copy-%d", e.Meta.ID, now.UnixNano())
	b, err := sealBody(s, m, n.Bytes(now))
	if err != nil {
		return err
	}
	if _, err := s.Queue(queue.Out).EnqueueBytes(m, b); err != nil {
		return fmt.Errorf("held post %s: queue the copy: %w", id, err)
	}
	s.Log.Info("held post copy sent", "held_id", h.ID, "list", h.List, "to", to)
	return nil
}
