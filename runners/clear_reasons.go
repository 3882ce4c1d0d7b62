package runners

import (
	"cloister/internal/refusal"
	"cloister/queue"
	"cloister/rules"
)

// clearOutcome rewrites the posting chain's outcome for a post that
// arrived encrypted: each rule's reason, which may quote the decrypted
// post (a word of its protected Subject, a count of its protected
// recipients), becomes that rule's fixed description. The reasons end up in
// clear places: the log, the held record, the metadata line of queue
// entries, notices that travel in clear.
func clearOutcome(m *queue.Meta, chain []rules.Link, outcome error) error {
	if !m.ArrivedEncrypted() || outcome == nil {
		return outcome
	}
	desc := func(name string) rules.Reason {
		for _, l := range chain {
			if l.Rule.Name() == name {
				return rules.DescriptionOf(l.Rule)
			}
		}
		return rules.Reasonf("rule %s", name)
	}
	switch o := outcome.(type) {
	case *rules.DiscardError:
		return &rules.DiscardError{Rule: o.Rule, Reason: desc(o.Rule)}
	case *refusal.RejectError:
		return &refusal.RejectError{Step: o.Step, Reason: desc(o.Step)}
	case *rules.HoldError:
		h := &rules.HoldError{Rules: o.Rules, Owner: o.Owner}
		for _, r := range o.Rules {
			h.Reasons = append(h.Reasons, desc(r))
		}
		return h
	}
	return outcome
}
