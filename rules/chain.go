package rules

import (
	"strings"

	"cloister/internal/refusal"
	"cloister/lists"
	"cloister/mailmsg"
	"cloister/queue"
)

// Rule is one check of the posting chain (after Mailman 3's rules). A rule
// only detects: it says whether it fired and why. What a hit means (hold,
// reject, discard) is the chain's business, written in PostingChain.
type Rule interface {
	// Name is the rule's name, recorded in Meta.RuleHits or RuleMisses.
	Name() string
	// Description is one line for the docs and `cloister held show`.
	Description() string
	// Check looks at the post and reports whether the rule fires.
	Check(p *Post) Result
}

// Result is what a rule found.
type Result struct {
	// Hit reports the rule fired.
	Hit bool
	// Reason says why it fired, as a catalogue format and its arguments
	// (rendered in the list's language by notices, in English by String
	// for logs); zero on a miss.
	Reason Reason
}

// hit and miss build Results.
func hit(format string, a ...any) Result { return Result{Hit: true, Reason: Reasonf(format, a...)} }

var miss = Result{}

// Post is what the rules look at: the list, the entry's metadata (after the
// incoming runner: From, encryption, signature verdict, method), the parsed
// message and its bytes (plaintext: the rules run in memory only).
type Post struct {
	List *lists.List
	Meta *queue.Meta
	Msg  *mailmsg.Message
	// Body is the whole message (header and body), for its size.
	Body []byte
	// SiteBanned are site-wide banned-address patterns, added to the list's
	// banned_addresses.
	SiteBanned []string
	// SignatureSeen says where the site's replay store saw the post's good
	// signature before, in another entry ("" when it is new or the post is
	// not signed). The rules runner fills it.
	SignatureSeen string
	// Scan is the virus scanner's verdict, or nil when the post was not
	// scanned. The rules runner fills it.
	Scan *Scan
}

// Action is what the chain does with a post when a rule fires.
type Action string

// The actions of the chain, weakest first: when several rules fire, the
// strongest action decides (discard, then reject, then owner, then hold).
const (
	// ActionHold holds the post for the moderators.
	ActionHold Action = "hold"
	// ActionOwner holds the post for the owners (not the moderators).
	ActionOwner Action = "owner"
	// ActionReject refuses the post with a notice to the sender.
	ActionReject Action = "reject"
	// ActionDiscard drops the post; only the log tells.
	ActionDiscard Action = "discard"
)

func (a Action) rank() int {
	switch a {
	case ActionHold:
		return 1
	case ActionOwner:
		return 2
	case ActionReject:
		return 3
	case ActionDiscard:
		return 4
	}
	return 0
}

// Link pairs a rule with the action taken when it fires.
type Link struct {
	Rule   Rule
	Action Action
}

// ListActions names the rules whose action a list setting chooses; the
// chain's Action is the default when the setting is empty or unknown.
var ListActions = map[string]func(*lists.Settings) Action{
	"duplicate-signature": func(s *lists.Settings) Action { return Action(s.DuplicateSignatureAction) },
	"virus-scan":          func(s *lists.Settings) Action { return Action(s.VirusAction) },
}

// PostingChain is the posting chain, run by the rules runner before the
// list's send scenario: every rule of the chain, in order, with its action.
// This table is the one place a reader sees every rule.
//
// To add a rule: copy rules/no_subject.go to rules/<name>.go, give the type
// its Name, Description and Check (detection only: no policy), add it here
// with its action, add its cases to chain_test.go, and add its row to the
// table in docs/owners.md (TestChainDocs fails until the row matches).
// When a list setting chooses the action, name the rule in ListActions too
// (the action here is then the default).
var PostingChain = []Link{
	{Loop{}, ActionDiscard},
	{BannedAddress{}, ActionReject},
	{VirusScan{}, ActionReject}, // or as virus_action says (ListActions)
	{VirusUnscanned{}, ActionHold},
	{DuplicateSignature{}, ActionReject}, // or as duplicate_signature_action says (ListActions)
	{PostEncryptForce{}, ActionReject},
	{PostSignForce{}, ActionReject},
	{Administrivia{}, ActionOwner},
	{PostSign{}, ActionHold},
	{EncryptedForeignSignature{}, ActionHold},
	{MaxSize{}, ActionHold},
	{MaxRecipients{}, ActionHold},
	{ImplicitDestination{}, ActionHold},
	{NoSubject{}, ActionHold},
	{SuspiciousHeader{}, ActionHold},
}

// DiscardError means a rule fired whose action is discard; it matches
// refusal.ErrDiscard (errors.Is).
type DiscardError struct {
	Rule   string
	Reason Reason
}

func (e *DiscardError) Error() string        { return "discard (" + e.Rule + "): " + e.Reason.String() }
func (e *DiscardError) Is(target error) bool { return target == refusal.ErrDiscard }

// HoldError means one or more rules fired whose action is hold (or owner):
// the post waits for a decision. Owner tells that the owners decide rather
// than the moderators.
type HoldError struct {
	Rules   []string
	Reasons Reasons
	Owner   bool
}

func (e *HoldError) Error() string {
	return "hold (" + strings.Join(e.Rules, ", ") + "): " + e.Reason()
}

// Reason joins the reasons of every rule that held the post, in English.
func (e *HoldError) Reason() string { return e.Reasons.String() }

// RunChain checks every rule of the chain against the post and returns the
// names of the rules that fired (hits) and did not (misses), and the outcome:
// nil when no rule fired, else the strongest action as a *DiscardError,
// *refusal.RejectError (Step names the rule) or *HoldError (the first rule of that action names it).
// Every rule is checked, so the hits tell an admin every reason at once.
func RunChain(chain []Link, p *Post) (hits, misses []string, outcome error) {
	best := Action("")
	var first Link
	var firstReason Reason
	hold := &HoldError{}
	for _, l := range chain {
		r := l.Rule.Check(p)
		if !r.Hit {
			misses = append(misses, l.Rule.Name())
			continue
		}
		hits = append(hits, l.Rule.Name())
		action := l.Action
		if set, ok := ListActions[l.Rule.Name()]; ok && p.List != nil {
			if a := set(&p.List.Settings); a.rank() > 0 {
				action = a
			}
		}
		if action == ActionHold || action == ActionOwner {
			hold.Rules = append(hold.Rules, l.Rule.Name())
			hold.Reasons = append(hold.Reasons, r.Reason)
			if action == ActionOwner {
				hold.Owner = true
			}
		}
		if action.rank() > best.rank() {
			best, first, firstReason = action, l, r.Reason
		}
	}
	switch best {
	case ActionDiscard:
		return hits, misses, &DiscardError{Rule: first.Rule.Name(), Reason: firstReason}
	case ActionReject:
		return hits, misses, &refusal.RejectError{Step: first.Rule.Name(), Reason: firstReason}
	case ActionHold, ActionOwner:
		return hits, misses, hold
	}
	return hits, misses, nil
}
