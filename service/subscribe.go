package service

import (
	"context"
	"errors"
	"strings"

	"cloister/lists"
	"cloister/rules"
)

// Flow reads a scenario decision and a policy (open, confirm, approve,
// confirm+approve): whether a confirmation and an approval are needed, or
// the refusal when the scenario refuses.
func Flow(d rules.Decision, policy string) (confirm, approve bool, refusal error) {
	switch d.Action {
	case rules.ScenarioReject, rules.ScenarioDiscard:
		return false, false, errorf(CodeForbidden, "%s", ReasonText(d.Reason))
	case rules.ScenarioRequestAuth:
		confirm = true
	case rules.ScenarioOwner, rules.ScenarioEditor, rules.ScenarioEditorkey:
		approve = true
	}
	confirm = confirm || strings.Contains(policy, "confirm")
	approve = approve || strings.Contains(policy, "approve")
	return confirm, approve, nil
}

// confirmed and approved tell what a returning token proved.
func (a Actor) confirmed() bool { return a.Mail != nil && a.Mail.Confirmed }
func (a Actor) approved() bool  { return a.Mail != nil && a.Mail.Approved }

// workflow decides how a subscription request (op subscribe or
// unsubscribe) proceeds: nil to do it now, a pending *Error after mailing
// the confirmation or approval request, or a refusal. cmd and args are the
// email command a returning token runs.
func (s *Service) workflow(a Actor, op Op, l *lists.List, target, policy, cmd string, args []string, what rules.Reason) error {
	var needConfirm, needApprove bool
	switch {
	case a.isPerson():
		if a.Address == "" {
			return errorf(CodeUnauthenticated, "no address to act as")
		}
		d, err := s.Decide(a, l, op.Scenario)
		if err != nil {
			return internal(err, "check the list's rules")
		}
		if needConfirm, needApprove, err = Flow(d, policy); err != nil {
			return err
		}
		if !a.is(target) {
			needConfirm = true // the address itself must agree
		}
	default:
		// The console and owner tokens act for the owners: no approval,
		// but the address itself must agree.
		if err := s.authorize(a, op, l); err != nil {
			return err
		}
		needConfirm = true
	}
	if needConfirm && !a.confirmed() {
		if s.workflows == nil {
			return errorf(CodeUnavailable, "confirmations cannot be mailed from here")
		}
		if err := s.workflows.AskConfirm(l, a, cmd, args, target, what); err != nil {
			return asError(err, "ask for a confirmation")
		}
		return errorf(CodePending, "a confirmation request was sent to %s; nothing happens until it is answered", target)
	}
	if needApprove && !a.approved() {
		if s.workflows == nil {
			return errorf(CodeUnavailable, "approval requests cannot be mailed from here")
		}
		if err := s.workflows.AskApproval(l, a, cmd, args, what); err != nil {
			return asError(err, "ask for an approval")
		}
		return errorf(CodePending, "the list owners were asked to approve")
	}
	return nil
}

// Subscribe asks for an address (the actor's own by default) to join a
// list through the list's workflow: the subscribe scenario and the
// subscribe_policy decide whether it is done at once, refused, or waits
// (CodePending) for the address's confirmation by mail or the owners'
// approval. Another person's address always confirms first.
func (s *Service) Subscribe(ctx context.Context, a Actor, req SubscribeRequest) (info MemberInfo, err error) {
	addr := s.listAddress(req.List)
	target := req.Address
	if target == "" {
		target = a.Address
	}
	defer func() { s.audit(a, opSubscribe, addr, target, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return MemberInfo{}, err
	}
	if target, err = canonical(target); err != nil {
		return MemberInfo{}, err
	}
	if err := lists.CheckName(req.Name); err != nil {
		// Before the workflow: a confirmation must not be mailed for a
		// subscription that would then fail.
		return MemberInfo{}, errorf(CodeInvalid, "the name is not accepted: %v", err)
	}
	if s.isSubscriber(l.Address, target) {
		return MemberInfo{}, errorf(CodeConflict, "%s is already subscribed", target)
	}
	args := []string{target}
	if req.Name != "" {
		args = append(args, req.Name)
	}
	if err := s.workflow(a, opSubscribe, l, target, l.Settings.SubscribePolicy, "subscribe", args,
		rules.Reasonf("subscribe %s to %s", target, l.Address)); err != nil {
		return MemberInfo{}, err
	}
	var m *lists.Member
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		if err := tx.AddMember(l.Address, &lists.Member{Address: target, Name: req.Name}); err != nil {
			return err
		}
		var err error
		if m, err = tx.Member(l.Address, target); err != nil {
			return err
		}
		return s.auditTx(tx, a, opSubscribe, l.Address, target, nil)
	})
	if errors.Is(err, lists.ErrMemberExists) {
		return MemberInfo{}, wrapf(err, CodeConflict, "%s is already subscribed", target)
	}
	if err != nil {
		return MemberInfo{}, storeError(err, "subscribe the address")
	}
	if s.workflows != nil {
		if err := s.workflows.Welcome(l, target); err != nil {
			s.site.Log.Warn("welcome not sent", "list", l.Address, "err", err)
		}
	}
	return memberInfo(m), nil
}

// Unsubscribe asks for an address (the actor's own by default) to leave a
// list through the list's workflow (unsubscribe scenario and
// unsubscribe_policy); an owner or moderator keeps the other roles.
func (s *Service) Unsubscribe(ctx context.Context, a Actor, req MemberRef) (err error) {
	addr := s.listAddress(req.List)
	target := req.Address
	if target == "" {
		target = a.Address
	}
	defer func() { s.audit(a, opUnsubscribe, addr, target, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return err
	}
	if target, err = canonical(target); err != nil {
		return err
	}
	if !s.isSubscriber(l.Address, target) {
		return errorf(CodeNotFound, "%s is not subscribed to %s", target, l.Address)
	}
	if err := s.workflow(a, opUnsubscribe, l, target, l.Settings.UnsubscribePolicy, "unsubscribe", []string{target},
		rules.Reasonf("unsubscribe %s from %s", target, l.Address)); err != nil {
		return err
	}
	return s.drop(a, opUnsubscribe, l, target, false)
}

// isSubscriber tells whether address holds the member role on list.
func (s *Service) isSubscriber(list, address string) bool {
	ok := false
	s.site.Lists.View(func(tx *lists.Tx) error {
		ok, _ = tx.IsSubscriber(list, address)
		return nil
	})
	return ok
}
