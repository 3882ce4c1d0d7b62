package commands

import (
	"context"
	"strings"

	"cloister/lists"
	"cloister/rules"
	"cloister/service"
)

// Subscribe adds the sender (or the address given) to the list, as the
// subscribe scenario and the subscribe_policy setting allow: open (at once),
// confirm (a token goes to the address, nothing happens until it comes
// back), approve (the owners decide), confirm+approve (both).
type Subscribe struct{}

// Name implements Command.
func (Subscribe) Name() string { return "subscribe" }

// Aliases implements Command.
func (Subscribe) Aliases() []string { return []string{"join", "sub"} }

// Args implements Command.
func (Subscribe) Args() string { return "[ADDRESS] [NAME]" }

// Help implements Command.
func (Subscribe) Help() string {
	return "join the list (your address, or ADDRESS, which must confirm); NAME is your display name"
}

// Operation implements Command.
func (Subscribe) Operation() string { return "subscribe" }

// Run implements Command.
func (cmd Subscribe) Run(c *Context, args []string) Result {
	target, name := c.Sender, ""
	var withKey string // an armored key waiting for the confirmation (token re-run only)
	if n := len(args); n > 0 && strings.HasPrefix(args[n-1], keyArg) {
		withKey, args = strings.TrimPrefix(args[n-1], keyArg), args[:n-1]
	}
	if len(args) > 0 && strings.Contains(args[0], "@") {
		target, args = strings.Trim(args[0], "<>"), args[1:]
	}
	name = strings.Trim(strings.Join(args, " "), "\"")
	canon, err := lists.CanonicalAddress(target)
	if err != nil {
		return refused("%q is not an address this list can take", target)
	}
	if isMember(c, canon) {
		return done("%s is already subscribed", canon)
	}
	d, err := c.Authorize("subscribe")
	if err != nil {
		return failed(err)
	}
	policy := c.List.Settings.SubscribePolicy
	needConfirm, needApprove, res, stop := flow(d, policy)
	if stop {
		return res
	}
	if !sameAddress(canon, c.Sender) {
		needConfirm = true // the address itself must agree
	}
	rest := []string{canon}
	if name != "" {
		rest = append(rest, name)
	}
	what := rules.Reasonf("subscribe %s to %s", canon, c.List.Address)
	if !c.Confirmed && !c.Approved && sameAddress(canon, c.Sender) && c.KeyStore != nil {
		// A key sent with the request is bound only when the confirmation
		// comes back signed with it (the challenge is encrypted to it).
		// Keys of a kind the list does not use (a client attaching its key
		// by habit) are left aside.
		lk, err := loadListKeys(c.Site, c.List.Address)
		if err != nil {
			return failed(err)
		}
		oc := *c
		if lk.pgp == nil {
			oc.Attachments, oc.Autocrypt = nil, nil
		}
		if lk.cert == nil {
			oc.Certificates = nil
		}
		k, res := oc.offered()
		if res.Status != "" {
			return res
		}
		if k != nil {
			return c.askConfirmWith(cmd, append(rest, keyArg+k.Text), canon, what, k,
				c.tr("Answer this message SIGNED with the key or certificate you sent: it is\n"+
					"registered only then."))
		}
	}
	if withKey != "" && c.Confirmed && !c.Approved {
		k, err := parseOffered(withKey)
		if err != nil {
			return failed(err)
		}
		if r := c.provenByOffered(k); r.Status != Done {
			return r
		}
	}
	if withKey != "" {
		rest = append(rest, keyArg+withKey)
	}
	if needConfirm && !c.Confirmed {
		return c.askConfirm(cmd, rest, canon, what)
	}
	if needApprove && !c.Approved {
		return c.askApproval(cmd, rest, what)
	}
	// The service decides again with the same scenario, policy and the
	// confirmation or approval this context carries, adds the member,
	// records the change and sends the welcome with the reply.
	_, err = c.service().Subscribe(context.Background(), c.actor(), service.SubscribeRequest{
		List: c.List.Address, Address: canon, Name: name})
	if service.Code(err) == service.CodeConflict {
		return done("%s is already subscribed", canon)
	}
	if err != nil {
		return serviceResult(err)
	}
	if withKey != "" {
		k, err := parseOffered(withKey)
		if err != nil {
			return failed(err)
		}
		r := c.enrol(canon, k, rules.Reasonf("subscribe"))
		switch r.Status {
		case Done, Pending:
			return done("%s is subscribed to %s; %s", canon, c.List.Address, r.Text)
		case Failed:
			return r
		}
		return done("%s is subscribed to %s; the key was not accepted: %s", canon, c.List.Address, r.Text)
	}
	return done("%s is subscribed to %s", canon, c.List.Address)
}

// keyArg marks the argument carrying a key through a token. It starts with
// a control character, which a command line cannot hold.
const keyArg = "\x00key:"

// flow reads a scenario decision and a policy (open, confirm, approve,
// confirm+approve): whether a confirmation and an approval are needed, or
// the result when the scenario refuses.
func flow(d rules.Decision, policy string) (confirm, approve bool, res Result, stop bool) {
	confirm, approve, err := service.Flow(d, policy)
	if err != nil {
		return false, false, refusal(d), true
	}
	return confirm, approve, Result{}, false
}

func isMember(c *Context, addr string) bool {
	ok := false
	c.Site.Lists.View(func(tx *lists.Tx) error {
		ok, _ = tx.IsSubscriber(c.List.Address, addr)
		return nil
	})
	return ok
}
