package commands

import (
	"context"
	"strings"

	"cloister/lists"
	"cloister/rules"
	"cloister/service"
)

// Unsubscribe removes the sender (or the address given) from the list, as
// the unsubscribe scenario and the unsubscribe_policy setting allow. With
// the default unsubscribe.confirm a request signed with the member's bound
// key or certificate leaves at once, and any other (a forged From among
// them) only sends the member a confirmation request.
type Unsubscribe struct{}

// Name implements Command.
func (Unsubscribe) Name() string { return "unsubscribe" }

// Aliases implements Command.
func (Unsubscribe) Aliases() []string { return []string{"leave", "signoff", "unsub"} }

// Args implements Command.
func (Unsubscribe) Args() string { return "[ADDRESS]" }

// Help implements Command.
func (Unsubscribe) Help() string {
	return "leave the list (your address, or ADDRESS, which must confirm)"
}

// Operation implements Command.
func (Unsubscribe) Operation() string { return "unsubscribe" }

// Run implements Command.
func (cmd Unsubscribe) Run(c *Context, args []string) Result {
	target := c.Sender
	if len(args) > 0 {
		target = strings.Trim(args[0], "<>")
	}
	canon, err := lists.CanonicalAddress(target)
	if err != nil {
		return refused("%q is not an address", target)
	}
	if !isMember(c, canon) {
		return refused("%s is not subscribed to %s", canon, c.List.Address)
	}
	// A signature counts only when it is made by the key or certificate
	// bound to the address on file: anything else is judged as unsigned
	// mail (unsubscribe.confirm then asks the member to confirm).
	ac := *c
	if (c.Method == rules.MethodPGP || c.Method == rules.MethodSMIME) && !signedByBoundKey(c) {
		ac.Method = rules.MethodSMTP
	}
	d, err := ac.Authorize("unsubscribe")
	if err != nil {
		return failed(err)
	}
	needConfirm, needApprove, res, stop := flow(d, c.List.Settings.UnsubscribePolicy)
	if stop {
		return res
	}
	if !sameAddress(canon, c.Sender) {
		needConfirm = true
	}
	what := rules.Reasonf("unsubscribe %s from %s", canon, c.List.Address)
	if needConfirm && !c.Confirmed {
		return c.askConfirm(cmd, []string{canon}, canon, what)
	}
	if needApprove && !c.Approved {
		return c.askApproval(cmd, []string{canon}, what)
	}
	// The service decides again with the same actor (a signature by
	// another key counts as unsigned mail) and removes the member role.
	if err := c.service().Unsubscribe(context.Background(), ac.actor(), service.MemberRef{List: c.List.Address, Address: canon}); err != nil {
		if service.Code(err) == service.CodeNotFound {
			return refused("%s is not on %s", canon, c.List.Address)
		}
		return serviceResult(err)
	}
	return done("%s is unsubscribed from %s", canon, c.List.Address)
}

// signedByBoundKey reports whether the command mail was signed with the
// OpenPGP key or an S/MIME certificate bound to the sender's address.
func signedByBoundKey(c *Context) bool {
	if c.KeyStore == nil || c.SignerFpr == "" {
		return false
	}
	if c.Method == rules.MethodPGP {
		cur, err := c.KeyStore.SubscriberPGP(c.Sender)
		return err == nil && cur != "" && strings.EqualFold(cur, c.SignerFpr)
	}
	certs, err := c.KeyStore.SubscriberCerts(c.Sender)
	if err != nil {
		return false
	}
	for _, f := range certs {
		if strings.EqualFold(f, c.SignerFpr) {
			return true
		}
	}
	return false
}
