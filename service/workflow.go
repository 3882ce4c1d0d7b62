package service

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"cloister/lists"
)

// The workflow state the email commands keep: a command waiting for a
// confirmation or an owner's approval (a token in the lists store that
// runs it again when it comes back), and a proven key waiting for the
// owners or a member's vouch (a key request). These change no list, member
// or key, but they are written only here, so that every way in keeps them
// alike and nothing writes the store around the service.

// Token actions of waiting commands: the address concerned confirms
// (TokenConfirm), or an owner approves (TokenApprove).
const (
	TokenConfirm = "cmd-confirm"
	TokenApprove = "cmd-approve"
)

// WaitingCommand is an email command waiting for a token, as the token
// records it: returning the token runs Cmd with Args again for Sender.
type WaitingCommand struct {
	Cmd       string   `json:"cmd"`
	Args      []string `json:"args,omitempty"`
	Sender    string   `json:"sender"`
	Method    string   `json:"method"`
	Confirmed bool     `json:"confirmed,omitempty"`
}

// ConfirmationRequest asks for tokens that run Command again: Action
// TokenConfirm makes one for each address of To (the address concerned);
// TokenApprove makes one for each owner of List (its listmasters when it
// has none) when To is empty.
type ConfirmationRequest struct {
	List    string         `json:"list"`
	Action  string         `json:"action"`
	To      []string       `json:"to,omitempty"`
	Command WaitingCommand `json:"command"`
}

// Confirmation is one token made, for the caller to mail to Address.
type Confirmation struct {
	Address string    `json:"address"`
	Token   string    `json:"token"`
	Expires time.Time `json:"expires"`
}

// AnswerRequest spends the token of a waiting command of List.
type AnswerRequest struct {
	List  string `json:"list"`
	Token string `json:"token"`
}

// Answer is a spent token: who it was sent to, whether an owner approved
// (else the address confirmed), and the command to run again.
type Answer struct {
	Address  string         `json:"address"`
	Approved bool           `json:"approved"`
	Command  WaitingCommand `json:"command"`
}

// KeyRequestPut records a key its holder proved, waiting for the owners
// (key_enrolment owner) or a member's vouch (vouched).
type KeyRequestPut struct {
	List        string `json:"list"`
	Address     string `json:"address"`
	Key         string `json:"key"`
	Fingerprint string `json:"fingerprint"`
	Mode        string `json:"mode"`
	Via         string `json:"via"`
	// ViaFormat is Via as the JSON of a rules.Reason, so notices render
	// it in the list's language (lists.KeyRequest.ViaFormat).
	ViaFormat json.RawMessage `json:"via_format,omitempty"`
}

// KeyRequestTake removes a key request to decide it: by ID, or (for a
// vouch) by Address and Fingerprint. Grounds is GroundsApproved for an
// owner's decision (approve or refuse) or GroundsVouch for a member's
// vouch; Refuse tells the audit log the owner refused it.
type KeyRequestTake struct {
	List        string `json:"list"`
	ID          string `json:"id,omitempty"`
	Address     string `json:"address,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Grounds     string `json:"grounds"`
	Refuse      bool   `json:"refuse,omitempty"`
}

var (
	opAskConfirm = Op{"workflow.ask", ClassAdmin, ""}
	opAnswer     = Op{"workflow.answer", ClassPublic, ""}
	opKeyRequest = Op{"key.request.put", ClassSelf, ""}
	opKeyReqTake = Op{"key.request.take", ClassAdmin, OpAdmin}
)

// ErrNotCommandToken is in the chain of AnswerConfirmation's error for a
// token that is not a waiting command's (a post's, a moderator's).
var ErrNotCommandToken = errors.New("not a token of a waiting command")

// authorizeWaiting decides whether the actor may leave cmd waiting on l:
// the site's admins any; a person only a command of their own, as proven
// (the token runs it again with the recorded sender and method); an API
// token that covers l's administration a command it starts for the
// address concerned (who confirms it), recorded with the token's method.
func (s *Service) authorizeWaiting(a Actor, l *lists.List, cmd WaitingCommand) error {
	if a.isSiteAdmin() {
		return nil
	}
	if cmd.Method != a.Method {
		return errorf(CodeForbidden, "a waiting command is recorded with the method its sender was proven by")
	}
	if cmd.Confirmed && (a.Mail == nil || !a.Mail.Confirmed) {
		return errorf(CodeForbidden, "only a confirmed request is recorded as confirmed")
	}
	if a.isPerson() {
		if !a.is(cmd.Sender) {
			return errorf(CodeForbidden, "a person leaves waiting only their own commands")
		}
		return nil
	}
	return s.authorize(a, opAskConfirm, l)
}

// AskConfirmation records a waiting command and returns its tokens, for
// the caller to mail. With TokenApprove and no owner (nor listmaster) it
// returns none.
func (s *Service) AskConfirmation(ctx context.Context, a Actor, req ConfirmationRequest) ([]Confirmation, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return nil, err
	}
	if err := s.authorizeWaiting(a, l, req.Command); err != nil {
		s.audit(a, opAskConfirm, l.Address, req.Command.Cmd, err)
		return nil, err
	}
	if req.Action != TokenConfirm && req.Action != TokenApprove {
		return nil, errorf(CodeInvalid, "unknown token action %q", req.Action)
	}
	if req.Action == TokenConfirm && len(req.To) == 0 {
		return nil, errorf(CodeInvalid, "a confirmation names the address that confirms")
	}
	data, err := json.Marshal(req.Command)
	if err != nil {
		return nil, internal(err, "record the request")
	}
	var out []Confirmation
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		to := req.To
		if len(to) == 0 {
			err := tx.ForEachMember(l.Address, func(m *lists.Member) error {
				if m.IsOwner() {
					to = append(to, m.Address)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if len(to) == 0 {
				to = append(to, s.site.Config.Listmasters...)
			}
		}
		for _, addr := range to {
			t := &lists.Token{List: l.Address, Address: addr, Action: req.Action, Data: string(data)}
			if err := tx.NewToken(t, 0); err != nil {
				return err
			}
			out = append(out, Confirmation{Address: t.Address, Token: t.Value, Expires: t.Expires})
		}
		return nil
	})
	if err != nil {
		return nil, storeError(err, "record the request")
	}
	return out, nil
}

// AnswerConfirmation spends the token of a waiting command of List (its
// value is the proof: anyone who holds it may) and returns the command to
// run again. A token of another list, or one that is not a waiting
// command's (ErrNotCommandToken), is refused and left unspent; an unknown,
// used or expired one is refused with lists.ErrNoToken, ErrTokenUsed or
// ErrTokenExpired in the error's chain.
func (s *Service) AnswerConfirmation(ctx context.Context, a Actor, req AnswerRequest) (Answer, error) {
	l, err := s.loadList(req.List)
	if err != nil {
		return Answer{}, err
	}
	if err := s.authorize(a, opAnswer, l); err != nil {
		return Answer{}, err
	}
	var t *lists.Token
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		cur, err := tx.Token(req.Token)
		if err != nil {
			return err
		}
		if cur.Action != TokenConfirm && cur.Action != TokenApprove {
			return ErrNotCommandToken
		}
		if !strings.EqualFold(cur.List, l.Address) {
			return errorf(CodeForbidden, "this token belongs to another list")
		}
		t, err = tx.UseToken(req.Token)
		return err
	})
	var e *Error
	switch {
	case err == nil:
	case errors.As(err, &e):
		return Answer{}, err
	case errors.Is(err, ErrNotCommandToken):
		return Answer{}, wrapf(err, CodeInvalid, "this token does not confirm a command")
	case errors.Is(err, lists.ErrNoToken), errors.Is(err, lists.ErrTokenUsed), errors.Is(err, lists.ErrTokenExpired):
		return Answer{}, wrapf(err, CodeInvalid, "%v", err)
	default:
		return Answer{}, storeError(err, "spend the token")
	}
	var cmd WaitingCommand
	if err := json.Unmarshal([]byte(t.Data), &cmd); err != nil {
		return Answer{}, internal(err, "read the waiting command")
	}
	return Answer{Address: t.Address, Approved: t.Action == TokenApprove, Command: cmd}, nil
}

// RequestKey records a key whose holder proved it (the email commands and
// KeyVerify check the proof before they call) as a key request for the
// owners, audited.
func (s *Service) RequestKey(ctx context.Context, a Actor, req KeyRequestPut) (r *lists.KeyRequest, err error) {
	addr := s.listAddress(req.List)
	defer func() { s.audit(a, opKeyRequest, addr, req.Address, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return nil, err
	}
	if !a.isSiteAdmin() && !a.isPerson() {
		return nil, errorf(CodeForbidden, "a key request is made by the key's holder, who proves it")
	}
	if err := s.authorize(a, opKeyRequest, l); err != nil {
		return nil, err
	}
	r = &lists.KeyRequest{List: l.Address, Address: req.Address, Key: req.Key, Fingerprint: req.Fingerprint, Mode: req.Mode, Via: req.Via, ViaFormat: req.ViaFormat}
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		if err := tx.PutKeyRequest(r); err != nil {
			return err
		}
		return s.auditTx(tx, a, opKeyRequest, l.Address, r.Address+" "+r.Fingerprint+" ("+r.ID+")", nil)
	})
	if err != nil {
		return nil, storeError(err, "record the key request")
	}
	return r, nil
}

// TakeKeyRequest removes a key request and returns it, so that two owners
// (or an owner and a voucher) deciding at once decide it once: an owner's
// decision (GroundsApproved; the list's owners, the site's admins) or a
// member's vouch (GroundsVouch, by mail, checked by the vouch command). It
// is audited; lists.ErrNoKeyRequest is in the chain when none waits.
func (s *Service) TakeKeyRequest(ctx context.Context, a Actor, req KeyRequestTake) (r *lists.KeyRequest, err error) {
	addr := s.listAddress(req.List)
	target := strings.TrimSpace(req.ID + " " + req.Address + " " + req.Fingerprint)
	defer func() { s.audit(a, opKeyReqTake, addr, target, err) }()
	l, err := s.loadList(req.List)
	if err != nil {
		return nil, err
	}
	switch req.Grounds {
	case GroundsApproved:
		if err := s.authorize(a, opKeyReqTake, l); err != nil {
			return nil, err
		}
	case GroundsVouch:
		if !a.isSiteAdmin() && (!a.isPerson() || a.Via != ViaMail) {
			return nil, errorf(CodeForbidden, "a member vouches for a key with a signed command mail")
		}
	default:
		return nil, errorf(CodeInvalid, "unknown grounds %q for deciding a key request", req.Grounds)
	}
	err = s.site.Lists.Update(func(tx *lists.Tx) error {
		if req.ID != "" {
			var err error
			if r, err = tx.KeyRequest(l.Address, req.ID); err != nil {
				return err
			}
		} else {
			rs, err := tx.KeyRequestsFor(l.Address)
			if err != nil {
				return err
			}
			for _, x := range rs {
				if strings.EqualFold(x.Address, req.Address) && strings.EqualFold(x.Fingerprint, req.Fingerprint) {
					r = x
				}
			}
			if r == nil {
				return lists.ErrNoKeyRequest
			}
		}
		if err := tx.DeleteKeyRequest(r.ID); err != nil {
			return err
		}
		what := req.Grounds
		if req.Refuse {
			what = "refused"
		}
		return s.auditTx(tx, a, opKeyReqTake, l.Address, r.ID+" "+r.Address+" "+r.Fingerprint+" ("+what+")", nil)
	})
	if errors.Is(err, lists.ErrNoKeyRequest) {
		return nil, wrapf(err, CodeNotFound, "no such key request waits on %s", l.Address)
	}
	if err != nil {
		return nil, storeError(err, "take the key request")
	}
	return r, nil
}
