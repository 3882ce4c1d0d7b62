package service

import (
	"context"
	"errors"
)

// KeyRequestDecideRequest approves (binds the key) or refuses a key
// request waiting for the owners of List.
type KeyRequestDecideRequest struct {
	List    string `json:"list"`
	ID      string `json:"id"`
	Approve bool   `json:"approve"`
}

var opKeyRequestDecide = Op{"key.request", ClassAdmin, OpAdmin}

// KeyRequestDecide approves or refuses a key request (the list's owners,
// the site's admins); the decision is audited, and an approved key's bind
// too (key.bind, grounds approved).
func (s *Service) KeyRequestDecide(ctx context.Context, a Actor, req KeyRequestDecideRequest) (text string, err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opKeyRequestDecide, addr, req.ID, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return "", err
	}
	if err := s.authorize(a, opKeyRequestDecide, l); err != nil {
		return "", err
	}
	if s.keyflows == nil {
		return "", errorf(CodeUnavailable, "key requests cannot be decided from here")
	}
	text, err = s.keyflows.DecideKeyRequest(l, a, req.ID, req.Approve)
	if err != nil {
		var e *Error
		if errors.As(err, &e) {
			return "", err
		}
		return "", wrapf(err, CodeInvalid, "%v", err)
	}
	what := " refused"
	if req.Approve {
		what = " approved"
	}
	s.auditDone(a, opKeyRequestDecide, l.Address, req.ID+what)
	return text, nil
}
