package runners

import (
	"fmt"

	"cloister/intake"
	"cloister/internal/decision"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/notices"
	"cloister/queue"
)

// refuse answers a refused mail with the fixed text (notices.Refusal), at
// most notices.RefusalNoticeLimit times per sender and window, and never
// automatic mail.
func refuse(j *Job, list *lists.List, m *queue.Meta, msg *mailmsg.Message, r *intake.Refusal) error {
	j.Log.Info("decision", "decision", decision.Refused, "reason", r.Reason, "from", m.From, "subaddress", m.Subaddress)
	if notices.ShouldNotAnswer(m, msg) {
		return nil
	}
	ok, err := notices.AllowRefusal(j.Site.Config.StateDir, m.Sender, j.Now)
	if err != nil {
		return err
	}
	if !ok {
		j.Log.Info("decision", "decision", decision.RefusalNotAnswered, "reason", "notice limit for the sender reached")
		return nil
	}
	n, err := notices.Refusal(j.Site, list, m.Sender, r.Hint)
	if err != nil {
		return fmt.Errorf("refusal notice: %w", err)
	}
	j.Send(queue.Out, n.MetaFrom("notice", m, false, m.Sender), n.Bytes(j.Now))
	return nil
}
