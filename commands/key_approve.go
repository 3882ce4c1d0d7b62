package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloister/internal/listaddr"
	"cloister/internal/site"
	"cloister/lists"
	"cloister/queue"
	"cloister/rules"
	"cloister/service"
)

// The owner's side of key enrolment (key_enrolment owner or vouched): a
// key whose holder proved it waits as a key request until an owner
// approves it with a signed command mail (key approve ID) or on the server
// (cloister key approve LIST ID), or refuses it. A token answered by mail
// is not enough: whoever reads the owner's mail could answer it.

// keyPending lists the list's key requests, for an owner's signed mail.
func keyPending(c *Context) Result {
	if res, ok := ownerSigned(c); !ok {
		return res
	}
	var rs []*lists.KeyRequest
	err := c.Site.Lists.View(func(tx *lists.Tx) error {
		var err error
		rs, err = tx.KeyRequestsFor(c.List.Address)
		return err
	})
	if err != nil {
		return failed(err)
	}
	if len(rs) == 0 {
		return done("no key waits for approval on %s", c.List.Address)
	}
	var b strings.Builder
	for _, r := range rs {
		fmt.Fprintf(&b, "  %s  %s  %s  (%s, %s; expires %s)\n", r.ID, r.Address, r.Fingerprint, r.Via, r.Mode, r.Expires.UTC().Format(time.DateOnly))
	}
	return done("keys waiting for approval on %s (key approve ID, key refuse ID):\n%s", c.List.Address, strings.TrimRight(b.String(), "\n"))
}

// keyApprove binds the key of a request, on an owner's signed mail.
func keyApprove(c *Context, id string) Result {
	if res, ok := ownerSigned(c); !ok {
		return res
	}
	return approveRequest(c, id)
}

// keyRefuse drops a request, on an owner's signed mail.
func keyRefuse(c *Context, id string) Result {
	if res, ok := ownerSigned(c); !ok {
		return res
	}
	return refuseRequest(c, id)
}

// takeRequest removes the request from the store (through the service,
// which authorizes and audits it) and returns it with its key, so that two
// owners deciding at once decide it once.
func takeRequest(c *Context, id string, refuse bool) (*lists.KeyRequest, *offeredKey, Result) {
	r, err := c.service().TakeKeyRequest(context.Background(), c.actor(), service.KeyRequestTake{
		List: c.List.Address, ID: id, Grounds: service.GroundsApproved, Refuse: refuse})
	if errors.Is(err, lists.ErrNoKeyRequest) {
		res := refused("no key request %s waits on %s (key pending lists them)", id, c.List.Address)
		// The service (KeyRequestDecisionAs) answers not-found, in these words.
		res.Err = &service.Error{Code: service.CodeNotFound, Message: res.Text, Err: err}
		return nil, nil, res
	}
	if err != nil {
		return nil, nil, serviceResult(err)
	}
	k, err := parseOffered(r.Key)
	if err != nil {
		return nil, nil, failed(err)
	}
	return r, k, Result{}
}

// approveRequest binds a request's key to its address and announces it.
func approveRequest(c *Context, id string) Result {
	r, k, res := takeRequest(c, id, false)
	if r == nil {
		return res
	}
	fpr, err := c.bindOffered(r.Address, k, service.GroundsApproved)
	if err != nil {
		return refused("the key of request %s was not accepted: %v", r.ID, err)
	}
	c.announceKey(r.Address, rules.Reasonf("%s was bound to %s, approved by the list owner %s (key request %s, %s; the holder answered the challenge encrypted to it).",
		k.reason(), r.Address, c.decider(), r.ID, storedVia(r)))
	return done("%s is now bound to %s (key request %s)", fpr, r.Address, r.ID)
}

// decider names who approves a key request in the announcement: the
// operator at the server's console (the CLI's key approve; c.As.Name is
// their login name) in the words of the catalogue, which notices render
// in the list's language, anyone else as c.Sender.
func (c *Context) decider() any {
	if c.As == nil || c.As.Method != service.MethodConsole {
		return c.Sender
	}
	return OperatorReason(c.As.Name)
}

// OperatorReason names the operator user at the server's console (no
// user: unnamed) as a catalogue Reason.
func OperatorReason(user string) rules.Reason {
	if user == "" {
		return rules.Reasonf("the operator (cloister on the server)")
	}
	return rules.Reasonf("the operator %s (cloister on the server)", user)
}

// refuseRequest drops a request and tells its address.
func refuseRequest(c *Context, id string) Result {
	r, k, res := takeRequest(c, id, true)
	if r == nil {
		return res
	}
	from := listaddr.Address(c.List.Address, queue.SubOwner)
	subject, body := c.render("key_refused", map[string]any{
		"List": c.List.Address, "Key": k.describeIn(c), "Address": r.Address, "OwnerAddress": from})
	c.send(&message{List: c.List.Address, From: from, To: r.Address, clear: true, Subject: subject, Body: body}, "notice")
	return done("key request %s (%s for %s) is refused; nothing was bound", r.ID, r.Fingerprint, r.Address)
}

// KeyRequestDecision approves (approve true) or refuses a key request of
// list on the server by the operator by (KeyRequestDecisionAs with the
// console).
func KeyRequestDecision(s *site.Site, ks KeyStore, list, id, by string, approve bool, now time.Time) (string, []Outgoing, error) {
	return KeyRequestDecisionAs(s, ks, list, id, service.Actor{Name: by, Method: service.MethodConsole, Via: service.ViaCLI}, approve, now)
}

// KeyRequestDecisionAs approves (approve true) or refuses a key request of
// list for the actor a (the service's KeyRequestDecide, which authorized
// it). It returns what was done and the notices to queue for the outgoing
// runner (the announcement of the bind, or the refusal to the address).
func KeyRequestDecisionAs(s *site.Site, ks KeyStore, list, id string, a service.Actor, approve bool, now time.Time) (string, []Outgoing, error) {
	var l *lists.List
	if err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		l, err = tx.List(list)
		return err
	}); err != nil {
		return "", nil, err
	}
	by := a.Name
	if by == "" {
		by = a.Address
	}
	c := &Context{Site: s, List: l, Sender: by, KeyStore: ks, Now: now, As: &a}
	res := refuseRequest
	if approve {
		res = approveRequest
	}
	r := res(c, id)
	if r.Status != Done {
		if r.Err != nil {
			return "", nil, r.Err
		}
		return "", nil, errors.New(r.Text)
	}
	var ms []*message
	for _, p := range c.out {
		ms = append(ms, p.m)
	}
	out, err := renderNotices(s, l, ms, now)
	return r.Text, out, err
}
