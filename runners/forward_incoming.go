package runners

import (
	"cloister/internal/decision"
	"cloister/lists"
	"cloister/ownmail"
	"cloister/queue"
	"cloister/rules"
)

// forwardIncoming forwards a post to the list's owners when the list has
// forward_all_incoming_to_admins on, before the posting chain decides what
// becomes of it, as mail to LIST-owner is forwarded: the forward carries
// the post, so one that arrived encrypted leaves only encrypted to each
// owner's key (package ownmail). A post the virus scanner found infected is
// not forwarded. It is staged with the rules runner's other outputs, so a
// post tried again (clamd down) is forwarded once.
func forwardIncoming(j *Job, list *lists.List, m *queue.Meta, body []byte, scan *rules.Scan) error {
	if !list.Settings.ForwardAllIncomingToOwners || scan != nil && scan.Infected {
		return nil
	}
	_, owners, err := listWith(j.Site, list.Address, (*lists.Member).IsOwner)
	if err != nil || len(owners) == 0 {
		return err
	}
	fm := ownmail.Meta(list.Address, "forward", m, true, j.Now, owners...)
	fm.Subaddress = queue.SubOwner
	fm.ID = m.ID + "-forward" // the post itself goes on to out under m.ID
	fm.AddStage("rules", "forward_all_incoming_to_admins")
	j.Send(queue.Out, fm, body)
	j.Log.Info("decision", "decision", decision.ForwardedToOwners, "owners", len(owners), "setting", "forward_all_incoming_to_admins")
	return nil
}
