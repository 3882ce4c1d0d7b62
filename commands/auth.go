package commands

import (
	"errors"
	"strings"
	"time"

	"cloister/lists"
	"cloister/rules"
	"cloister/service"
)

// Operations of the owner and moderator commands. Like the contract's
// operations, each is authorized by the scenario its list setting names
// (admin, moderate; built-ins in etc/scenarios).
const (
	OpAdmin    = service.OpAdmin    // add, remove, members, set SETTING VALUE, key set ADDRESS
	OpModerate = service.OpModerate // approve, reject, discard
)

func reasonText(key string) string { return service.ReasonText(key) }

// scenarioName returns the scenario a list uses for an operation.
func scenarioName(l *lists.List, op string) string { return service.ScenarioName(l, op) }

// actor is who the command runs for, as the service layer sees them: the
// sender with the method this line was proven by.
func (c *Context) actor() service.Actor {
	if c.As != nil {
		return *c.As
	}
	return service.Actor{Address: c.Sender, Method: c.Method, Via: service.ViaMail,
		Mail: &service.MailFacts{Signer: c.Signer, Encrypted: c.Encrypted, Signed: c.Signed, Header: c.Header,
			Confirmed: c.Confirmed, Approved: c.Approved}}
}

// service returns the service layer the commands call: deciding with the
// context's scenario set (moderating through package moderation), and
// sending the mails of its workflows with the reply (ctxWorkflows).
func (c *Context) service() *service.Service {
	// A copy of a Context (a token's re-run) gets its own: the workflows
	// write to the context they were made for.
	if c.svc == nil || c.svcOwner != c {
		c.svcOwner = c
		opts := []service.Option{
			service.WithWorkflows(ctxWorkflows{c}),
			service.WithKeyStore(c.KeyStore),
		}
		if c.Scenarios != nil {
			opts = append(opts, service.WithScenarios(c.Scenarios))
		}
		if c.Now.IsZero() {
			c.svc = service.New(c.Site, opts...)
		} else {
			now := c.Now
			c.svc = service.New(c.Site, append(opts, service.WithClock(func() time.Time { return now }))...)
		}
	}
	return c.svc
}

// Authorize evaluates the list's scenario for op with the context's sender
// and method, through the service layer (service.Decide), so that every way
// in decides alike. The owner and moderator commands are refused on smtp
// (mail that proves nothing about its From) whatever the scenario says.
func (c *Context) Authorize(op string) (rules.Decision, error) {
	if c.Scenarios == nil {
		return rules.Decision{}, errors.New("no scenario set")
	}
	return c.service().Decide(c.actor(), c.List, op)
}

// refusal is the reply for a decision that refuses.
func refusal(d rules.Decision) Result {
	return refused("%s", reasonText(d.Reason))
}

// serviceResult turns a service error into the command's result: a
// pending request, a refusal with the service's message, or a failure of
// the server's side (its error for the log only).
func serviceResult(err error) Result {
	format, args := service.MessageFormat(err) // shown in the list's language (translate)
	switch service.Code(err) {
	case service.CodePending:
		return pending(format, args...)
	case service.CodeUnavailable:
		return failed(err)
	}
	return refused(format, args...)
}

// ctxWorkflows sends the mails of the service's workflows with the reply
// to the command mail, sharing its budget of requests.
type ctxWorkflows struct{ c *Context }

// AskConfirm implements service.Workflows.
func (w ctxWorkflows) AskConfirm(l *lists.List, a service.Actor, cmd string, args []string, address string, what rules.Reason) error {
	command, ok := Lookup(cmd)
	if !ok {
		return errors.New("no email command " + cmd)
	}
	return resultError(w.c.askConfirm(command, args, address, what))
}

// AskApproval implements service.Workflows.
func (w ctxWorkflows) AskApproval(l *lists.List, a service.Actor, cmd string, args []string, what rules.Reason) error {
	command, ok := Lookup(cmd)
	if !ok {
		return errors.New("no email command " + cmd)
	}
	return resultError(w.c.askApproval(command, args, what))
}

// Welcome implements service.Workflows.
func (w ctxWorkflows) Welcome(l *lists.List, address string) error {
	w.c.welcome(address)
	return nil
}

// sameAddress compares two addresses ignoring case.
func sameAddress(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
