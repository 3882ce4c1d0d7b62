package runners

import (
	"context"
	"errors"

	"cloister/internal/refusal"
	"cloister/mailmsg"
	"cloister/moderation"
	"cloister/queue"
	"cloister/replay"
	"cloister/rules"
)

// Rules decides what becomes of a post. It runs the posting chain
// (rules.PostingChain: loop, banned-address, the crypto settings,
// administrivia, max-size, ...) and records every rule that fired in
// Meta.RuleHits and every other in RuleMisses; then it evaluates the list's
// send scenario with the post's sender, authentication method, signature and
// encryption. A chain rule whose action is discard or reject decides at once;
// a scenario reject or discard wins over a chain hold (there is no point in
// moderating a post the list refuses); otherwise a chain hold holds the post,
// and the scenario's action (do_it, request_auth, editorkey, editor, owner)
// decides.
type Rules struct{}

// Name implements Runner.
func (Rules) Name() string { return "rules" }

// Queue implements Runner.
func (Rules) Queue() string { return queue.Rules }

// Description implements Runner.
func (Rules) Description() string {
	return "run the posting chain and the send scenario: accept, hold, reject, discard or ask the sender to confirm"
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
	m.Sealed = nil // body is the plaintext; the loop seals the outputs that need it
	list, err := loadList(j.Site, m.List)
	if err != nil {
		return err
	}
	x := &moderation.Decider{
		Site: j.Site, List: list, Meta: m, Msg: msg, Body: body, Now: j.Now, Log: j.Log,
		Out: func(q string, nm *queue.Meta, b []byte) error { j.Send(q, nm, b); return nil },
		// Staged like every other output, so the loop seals the post when
		// it arrived encrypted; until the rules entry is finished a crash
		// repeats the hold, and the held record is replaced.
		Keep: func(hm *queue.Meta) error { j.Send(queue.Held, hm, body); return nil },
	}
	p := &rules.Post{List: list, Meta: m, Msg: msg, Body: body, SiteBanned: j.Site.Config.BannedAddresses}
	if p.Scan, err = virusScan(ctx, j, list, m, body); err != nil {
		return err
	}
	if p.SignatureSeen, err = signatureSeen(j, m); err != nil {
		return err
	}
	if err := forwardIncoming(j, list, m, body, p.Scan); err != nil {
		return err
	}
	hits, misses, outcome := rules.RunChain(rules.PostingChain, p)
	outcome = clearOutcome(m, rules.PostingChain, outcome)
	m.RuleHits = append(m.RuleHits, hits...)
	m.RuleMisses = append(m.RuleMisses, misses...)
	var disc *rules.DiscardError
	var rej *refusal.RejectError
	switch {
	case errors.As(outcome, &disc):
		return x.Discard("rule " + disc.Rule + ": " + disc.Reason.String())
	case errors.As(outcome, &rej):
		return x.Reject(rej.Reason, false, "rule "+rej.Step)
	}
	d, err := moderation.EvaluateSend(j.Site, list, m, msg, len(body))
	if err != nil {
		return Permanent("send scenario of %s: %v", list.Address, err)
	}
	var hold *rules.HoldError
	errors.As(outcome, &hold)
	return x.Act(d, hold)
}

// signatureSeen counts the post's good signature in the site's replay store
// (shared with the command mails of every list) and says where it was seen
// before by another entry, or "". The entry's id is stable across retries,
// so a rules entry handled again after a crash is not its own replay.
func signatureSeen(j *Job, m *queue.Meta) (string, error) {
	if m.Verdict != "good" || m.SignatureID == "" {
		return "", nil
	}
	prev, err := replay.ForSite(j.Site.Config.StateDir).Check(m.SignatureID, m.ID, "post to "+m.List, m.SignatureTime, j.Now)
	if err != nil || prev == nil {
		return "", err
	}
	if prev.Forgotten {
		j.Log.Warn("signature older than the replay store's memory", "signature", m.SignatureID,
			"signed", m.SignatureTime, "horizon", prev.At)
		return "signed before the replay store's horizon", nil
	}
	j.Log.Warn("signature seen before", "signature", m.SignatureID, "first_entry", prev.Entry,
		"first_context", prev.Context, "first_seen", prev.At)
	return prev.Context, nil
}
