package moderation

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/notices"
	"cloister/ownmail"
	"cloister/queue"
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
	if !ownmail.CanEncrypt(s, l.Address, to, now) {
		return ErrNoKeyForCopy
	}
	meta, body, err := readHeld(s, h)
	if err != nil {
		return err
	}
	n, err := notices.ForList(s, l, "held_copy", to, map[string]any{
		"List": l.Address, "HeldID": h.ID, "From": h.Sender, "Reason": notices.HeldReason(h),
		"Expires": h.Expires.UTC().Format(time.RFC1123Z),
	})
	if err != nil {
		return err
	}
	n.Attach = body
	m := n.MetaFrom("notice", meta, true, to)
	m.Carries = queue.CarriesPlaintext
	// The ID is the seal's associated data: set before sealing.
	m.ID = fmt.Sprintf("%s-copy-%d", meta.ID, now.UnixNano())
	b, err := s.SealBody(m, n.Bytes(now))
	if err != nil {
		return err
	}
	if _, err := s.Queue(queue.Out).EnqueueBytes(m, b); err != nil {
		return fmt.Errorf("held post %s: queue the copy: %w", id, err)
	}
	s.Log.Info("held post copy sent", "held_id", h.ID, "list", h.List, "to", to)
	return nil
}

// readHeld reads a held post's metadata and plaintext without claiming its
// entry (a sealed body is opened with the queue key, in memory only).
func readHeld(s *site.Site, h *lists.Held) (*queue.Meta, []byte, error) {
	name := strings.TrimSuffix(filepath.Base(h.File), ".msg")
	data, err := os.ReadFile(filepath.Join(s.Queue(queue.Held).Dir, name+".msg"))
	if err != nil {
		return nil, nil, fmt.Errorf("held post %s: %w", h.ID, err)
	}
	line, body, ok := bytes.Cut(data, []byte("\n"))
	if !ok {
		return nil, nil, fmt.Errorf("held post %s: no metadata line", h.ID)
	}
	m := new(queue.Meta)
	if err := json.Unmarshal(line, m); err != nil {
		return nil, nil, fmt.Errorf("held post %s: metadata: %w", h.ID, err)
	}
	pt, err := s.OpenBody(m, body)
	if err != nil {
		return m, nil, fmt.Errorf("held post %s: %w: %v", h.ID, errSealed, err)
	}
	return m, pt, nil
}
