package runners

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"

	"cloister/listaddr"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/queue"
)

// Rules decides what becomes of a post: a post carrying the list's own loop
// header is discarded; a post from a member (subscriber, moderator or owner)
// goes on to the pipeline; any other is held for the moderators. The
// authorization scenarios and the posting chain replace this policy in the
// moderation work; the hand-overs stay the same.
type Rules struct{}

// Name implements Runner.
func (Rules) Name() string { return "rules" }

// Queue implements Runner.
func (Rules) Queue() string { return queue.Rules }

// Description implements Runner.
func (Rules) Description() string {
	return "decide on each post: discard loops, accept members' posts, hold the others for moderators"
}

// Process implements Runner.
func (Rules) Process(ctx context.Context, j *Job) error {
	body, err := j.Body()
	if err != nil {
		return err
	}
	msg, err := mailmsg.Parse(body)
	if err != nil {
		return Permanent("unreadable message header: %v", err)
	}
	m := j.Meta.Clone()
	for _, v := range msg.Values("X-Loop") {
		if strings.EqualFold(strings.TrimSpace(v), m.List) {
			m.RuleHits = append(m.RuleHits, "loop")
			j.Log.Info("decision", "decision", "discard", "rule", "loop", "from", m.From)
			return nil
		}
	}
	m.RuleMisses = append(m.RuleMisses, "loop")

	var list *lists.List
	var member *lists.Member
	var moderators []string
	err = j.Site.Lists.View(func(tx *lists.Tx) error {
		var err error
		if list, err = tx.List(m.List); err != nil {
			return err
		}
		member, err = tx.Member(m.List, m.From)
		if errors.Is(err, lists.ErrNoMember) {
			member, err = nil, nil
		}
		if err != nil {
			return err
		}
		return tx.ForEachMember(m.List, func(mm *lists.Member) error {
			if mm.IsModerator() || mm.IsOwner() {
				moderators = append(moderators, mm.Address)
			}
			return nil
		})
	})
	if errors.Is(err, lists.ErrNoList) {
		return Permanent("list %s no longer exists", m.List)
	}
	if err != nil {
		return err
	}
	if member != nil && (member.IsSubscriber() || member.IsModerator() || member.IsOwner()) {
		m.RuleMisses = append(m.RuleMisses, "non-member")
		m.Decision = "accept: member"
		m.AddStage("rules", "accepted")
		j.Log.Info("decision", "decision", "accept", "from", m.From)
		j.Send(queue.Pipeline, m, body)
		return nil
	}
	m.RuleHits = append(m.RuleHits, "non-member")
	return hold(j, list, m, body, msg, "the sender is not a member of the list", moderators)
}

// hold keeps a post for the moderators: the message goes to the held queue,
// its record to the list store, and each moderator gets a notice that carries
// only header information (never the body: it may be the plaintext of an
// encrypted post, security invariant 2).
func hold(j *Job, list *lists.List, m *queue.Meta, body []byte, msg *mailmsg.Message, reason string, moderators []string) error {
	sum := sha256.Sum256([]byte(m.ID))
	id := hex.EncodeToString(sum[:])[:12]
	m.HeldID = id
	m.Decision = "hold: " + reason
	m.AddStage("rules", "held")
	if err := j.Site.Queue(queue.Held).Handover(m, bytesReader(body)); err != nil {
		return fmt.Errorf("write held post: %w", err)
	}
	subject := mailmsg.DecodeHeader(msg.Get("Subject"))
	if m.Encryption != "" && m.Encryption != "none" {
		subject = "" // the subject of an encrypted post may be protected
	}
	metaJSON, err := jsonMeta(m)
	if err != nil {
		return err
	}
	err = j.Site.Lists.Update(func(tx *lists.Tx) error {
		return tx.PutHeld(&lists.Held{
			ID:       id,
			List:     m.List,
			File:     "queue/" + queue.Held + "/" + m.ID + ".msg",
			Meta:     metaJSON,
			Sender:   m.From,
			Subject:  subject,
			Reason:   reason,
			Rules:    m.RuleHits,
			Received: j.Now,
		})
	})
	if err != nil {
		return fmt.Errorf("record held post: %w", err)
	}
	j.Log.Info("decision", "decision", "hold", "held_id", id, "reason", reason, "from", m.From)
	if len(moderators) == 0 {
		return nil
	}
	n := &Notice{
		List:    list.Address,
		From:    listaddr.Address(list.Address, queue.SubOwner),
		To:      listaddr.Address(list.Address, queue.SubOwner),
		Subject: fmt.Sprintf("Post to %s held for moderation (%s)", list.Address, id),
		Body: fmt.Sprintf(`A post to %s is held for moderation.

  Held ID:  %s
  From:     %s
  Subject:  %s
  Reason:   %s
  Rules:    %s

Decide with:
  cloister held approve %s
  cloister held reject %s
  cloister held show %s

The post's content is not included in this notice.
`, list.Address, id, m.From, orDash(subject), reason, strings.Join(m.RuleHits, ", "), id, id, id),
	}
	j.Send(queue.Out, n.Meta("notice", moderators...), n.Bytes(j.Now))
	return nil
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
