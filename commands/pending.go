package commands

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"cloister/internal/listaddr"
	"cloister/lists"
	"cloister/moderation"
	"cloister/queue"
	"cloister/rules"
	"cloister/service"
)

// Token actions of commands that wait: the address concerned confirms
// (TokenConfirm), or an owner approves (TokenApprove). Returning the token
// runs the command again with the confirmation or approval recorded.
const (
	TokenConfirm = service.TokenConfirm
	TokenApprove = service.TokenApprove
)

// MaxRequests bounds the confirmation and approval requests one command
// mail may cause, so that the list cannot be used to mail many third
// parties at once.
const MaxRequests = 3

// spendRequest counts one request against the mail's budget.
func (c *Context) spendRequest() bool {
	if c.requests == nil {
		c.requests = new(int)
	}
	if *c.requests >= MaxRequests {
		return false
	}
	*c.requests++
	return true
}

// confirmAddress is LIST-confirm+TOKEN@domain.
func confirmAddress(list, token string) string {
	return listaddr.AddressExt(list, queue.SubConfirm, token)
}

// askConfirm sends address a token that runs cmd again, confirmed, when it
// comes back; what says what is asked ("subscribe you to LIST").
func (c *Context) askConfirm(cmd Command, args []string, address string, what rules.Reason) Result {
	return c.askConfirmWith(cmd, args, address, what, nil, "")
}

// askConfirmWith is askConfirm whose request is encrypted to key (when not
// nil; never sent in clear then), with a further instruction.
func (c *Context) askConfirmWith(cmd Command, args []string, address string, what rules.Reason, key *offeredKey, extra string) Result {
	if !c.spendRequest() {
		return refused("at most %d confirmation requests are sent per message; send the rest separately", MaxRequests)
	}
	ts, err := c.service().AskConfirmation(context.Background(), c.actor(), service.ConfirmationRequest{
		List: c.List.Address, Action: TokenConfirm, To: []string{address},
		Command: service.WaitingCommand{Cmd: cmd.Name(), Args: args, Sender: c.Sender, Method: c.Method}})
	if err != nil {
		return serviceResult(err)
	}
	t := ts[0]
	addr := confirmAddress(c.List.Address, t.Token)
	subject, body := c.render("confirm_request", map[string]any{
		"Sender": c.Sender, "What": c.says(what), "ConfirmAddress": addr, "Token": t.Token,
		"RequestAddress": listaddr.Address(c.List.Address, queue.SubRequest),
		"Expires":        t.Expires.UTC().Format(time.RFC1123Z), "Extra": extra,
	})
	m := &message{List: c.List.Address, From: addr, ReplyTo: addr, To: address,
		Subject: subject, Body: body, encryptTo: key}
	c.send(m, "notice")
	return pending("a confirmation request was sent to %s; nothing happens until it is answered", address)
}

// askApproval sends each owner a token that runs cmd again, approved.
func (c *Context) askApproval(cmd Command, args []string, what rules.Reason) Result {
	if !c.spendRequest() {
		return refused("at most %d requests for confirmation or approval are sent per message; send the rest separately", MaxRequests)
	}
	ts, err := c.service().AskConfirmation(context.Background(), c.actor(), service.ConfirmationRequest{
		List: c.List.Address, Action: TokenApprove,
		Command: service.WaitingCommand{Cmd: cmd.Name(), Args: args, Sender: c.Sender, Method: c.Method, Confirmed: c.Confirmed}})
	if err != nil {
		return serviceResult(err)
	}
	if len(ts) == 0 {
		return refused("the list has no owner to approve this")
	}
	for _, t := range ts {
		o := t.Address
		addr := confirmAddress(c.List.Address, t.Token)
		body := c.tr(`%s asks to %s.

To approve, reply to this message, or send any message to
  %s
or send the line
  confirm %s
to %s.

To refuse, do nothing: the request expires on %s.
`, c.Sender, c.says(what), addr, t.Token, listaddr.Address(c.List.Address, queue.SubRequest), t.Expires.UTC().Format(time.RFC1123Z))
		m := &message{List: c.List.Address, From: addr, ReplyTo: addr, To: o,
			Subject: c.tr("Approve: %s asks to %s", c.Sender, c.says(what)), Body: body}
		c.send(m, "notice")
	}
	return pending("the list owners were asked to approve")
}

// confirmToken spends a command token and runs its command again.
func (c *Context) confirmToken(value string) Result {
	var t *lists.Token
	err := c.Site.Lists.View(func(tx *lists.Tx) error {
		var err error
		t, err = tx.Token(value)
		return err
	})
	if err != nil {
		return tokenRefusal(err)
	}
	if t.Action != TokenConfirm && t.Action != TokenApprove {
		return c.confirmPost(value)
	}
	if !strings.EqualFold(t.List, c.List.Address) {
		return refused("this token belongs to another list")
	}
	ans, err := c.service().AnswerConfirmation(context.Background(), c.actor(), service.AnswerRequest{List: c.List.Address, Token: value})
	if err != nil {
		if r := tokenRefusal(err); r.Status == Refused {
			return r
		}
		return serviceResult(err)
	}
	r := ans.Command
	cmd, ok := Lookup(r.Cmd)
	if !ok {
		return failed(fmt.Errorf("token for unknown command %q", r.Cmd))
	}
	sub := *c
	sub.out = nil
	sub.Sender = r.Sender
	if !ans.Approved {
		sub.Method = "md5"
		sub.Confirmed = true
	} else {
		sub.Method = r.Method
		sub.Confirmed = r.Confirmed
		sub.Approved = true
	}
	sub.Signed, sub.Encrypted, sub.Signer = false, false, ""
	res := cmd.Run(&sub, r.Args)
	c.out = append(c.out, sub.out...)
	if res.Text != "" {
		// Translated before the prefix is added: translate leaves a text
		// changed after it was made as it is.
		res.Text = c.tr("(%s from %s) %s", usageLine(cmd, r.Args), r.Sender, c.translate(res).Text)
	}
	return res
}

// usageLine shows a waiting command briefly (a key argument is not shown).
func usageLine(cmd Command, args []string) string {
	out := cmd.Name()
	for _, a := range args {
		if strings.ContainsAny(a, "\n") || len(a) > 100 {
			a = "..."
		}
		out += " " + a
	}
	return out
}

// confirmPost hands a token of a post (request_auth, a moderator's
// decision) to the moderation code.
func (c *Context) confirmPost(value string) Result {
	err := moderation.ConfirmPost(c.Site, value)
	switch {
	case err == nil:
		return done("confirmed")
	case errors.Is(err, moderation.ErrNotPostToken):
		return refused("this token does not confirm anything a command can do")
	}
	if r := tokenRefusal(err); r.Status == Refused {
		return r
	}
	return failed(err)
}

// tokenRefusal explains a token that cannot be used.
func tokenRefusal(err error) Result {
	switch {
	case errors.Is(err, lists.ErrNoToken):
		return refused("unknown token (check that it was copied whole)")
	case errors.Is(err, lists.ErrTokenUsed):
		return refused("this token was already used; each works once")
	case errors.Is(err, lists.ErrTokenExpired):
		return refused("this token has expired; send the request again")
	}
	return failed(err)
}
