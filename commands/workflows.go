package commands

import (
	"fmt"
	"strings"
	"time"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/ownmail"
	"cloister/queue"
	"cloister/rules"
	"cloister/service"
)

// Workflows carries out the service layer's mail workflows with the email
// commands' own machinery, for the ways in that are not a command mail
// (the CLI, the API, the web): a confirmation token it mails runs the email
// command again when it comes back, exactly as if the request had come by
// mail. The messages are signed by the list (encrypted where a key is on
// file) and queued for the outgoing runner at once.
type Workflows struct {
	Site *site.Site
	// KeyStore binds enrolled keys; nil on sites without a keyring.
	KeyStore KeyStore
}

var (
	_ service.Workflows    = Workflows{}
	_ service.KeyWorkflows = Workflows{}
)

// run gives fn a Context on l for sender and queues what it sent.
func (w Workflows) run(l *lists.List, sender, method string, fn func(c *Context) Result) (Result, error) {
	now := time.Now()
	c := &Context{Site: w.Site, List: l, Sender: sender, Method: method, MailFrom: sender, KeyStore: w.KeyStore, Now: now}
	r := fn(c)
	if err := resultError(r); err != nil {
		return r, err
	}
	return r, w.queue(l, c.out, now)
}

// queue renders and queues the messages a Context sent.
func (w Workflows) queue(l *lists.List, out []pendingMail, now time.Time) error {
	if len(out) == 0 {
		return nil
	}
	keys, err := loadListKeys(w.Site, l.Address)
	if err != nil {
		return err
	}
	for _, p := range out {
		data, sealed, err := protect(w.Site, keys, p.m, now, false)
		if err != nil {
			return err
		}
		m := ownmail.Reply(l.Address, nil, p.kind, p.m.To, sealed, false, now)
		m.AddStage("service", p.kind)
		if _, err := w.Site.Queue(queue.Out).EnqueueBytes(m, data); err != nil {
			return fmt.Errorf("queue the %s to %s: %w", p.kind, p.m.To, err)
		}
	}
	return nil
}

// resultError turns a refused or failed Result into the service's error.
func resultError(r Result) error {
	switch r.Status {
	case Refused:
		return &service.Error{Code: service.CodeForbidden, Message: r.Text}
	case Failed:
		return &service.Error{Code: service.CodeUnavailable, Message: r.Text, Err: r.Err}
	}
	return nil
}

// requester is the address a waiting request is recorded as coming from:
// the actor's own, or for the console and tokens (acting for the owners)
// the address concerned, which confirms it.
func requester(a service.Actor, address string) string {
	if a.Address != "" {
		return a.Address
	}
	return address
}

// AskConfirm implements service.Workflows.
func (w Workflows) AskConfirm(l *lists.List, a service.Actor, cmd string, args []string, address string, what rules.Reason) error {
	c, ok := Lookup(cmd)
	if !ok {
		return fmt.Errorf("no email command %q to confirm", cmd)
	}
	_, err := w.run(l, requester(a, address), a.Method, func(ctx *Context) Result {
		ctx.As = &a // the service records the request for the actor as authenticated
		return ctx.askConfirm(c, args, address, what)
	})
	return err
}

// AskApproval implements service.Workflows.
func (w Workflows) AskApproval(l *lists.List, a service.Actor, cmd string, args []string, what rules.Reason) error {
	c, ok := Lookup(cmd)
	if !ok {
		return fmt.Errorf("no email command %q to approve", cmd)
	}
	sender := a.Address
	if sender == "" && len(args) > 0 {
		sender = args[0]
	}
	_, err := w.run(l, sender, a.Method, func(ctx *Context) Result {
		ctx.Confirmed = a.Mail != nil && a.Mail.Confirmed
		ctx.As = &a
		return ctx.askApproval(c, args, what)
	})
	return err
}

// Welcome implements service.Workflows.
func (w Workflows) Welcome(l *lists.List, address string) error {
	_, err := w.run(l, address, "", func(ctx *Context) Result {
		ctx.welcome(address)
		return done("")
	})
	return err
}

// Announce implements service.KeyWorkflows.
func (w Workflows) Announce(address string, event rules.Reason, by any) error {
	mails, err := KeyAnnouncements(w.Site, address, event, by, time.Now())
	if err != nil {
		return err
	}
	for _, o := range mails {
		m := ownmail.Reply(o.List, nil, o.Kind, o.To, o.Sealed, o.Confidential, time.Now())
		m.AddStage("service", o.Kind)
		if _, err := w.Site.Queue(queue.Out).EnqueueBytes(m, o.Data); err != nil {
			return fmt.Errorf("queue the notice to %s: %w", o.To, err)
		}
	}
	return nil
}

// Enrol implements service.KeyWorkflows with the mail path's enrolment.
func (w Workflows) Enrol(l *lists.List, address string, armored []byte, via rules.Reason) (string, string, error) {
	if w.KeyStore == nil {
		return "", "", &service.Error{Code: service.CodeUnavailable, Message: "keys cannot be enrolled on this server"}
	}
	k, err := parseOffered(string(armored))
	if err != nil {
		return "", "", &service.Error{Code: service.CodeInvalid, Message: "the key cannot be read", Err: err}
	}
	r, err := w.run(l, address, "", func(ctx *Context) Result {
		// The service runs this after the holder's signature proved the
		// key (KeyVerify).
		ctx.As = &service.Actor{Address: address, Method: rules.MethodPGP, Via: viaOf(via.String())}
		return ctx.enrol(address, k, via)
	})
	if err != nil {
		return "", "", err
	}
	if r.Status == Pending {
		return k.fingerprint(), r.Text, nil
	}
	return k.fingerprint(), "", nil
}

// viaOf returns the way in named at the end of an enrolment's via text
// ("key set on the web").
func viaOf(via string) string {
	for _, v := range []string{service.ViaWeb, service.ViaAPI, service.ViaCLI} {
		if strings.HasSuffix(via, v) {
			return v
		}
	}
	return service.ViaMail
}

// DecideKeyRequest implements service.KeyWorkflows: the key request
// is decided as the owners' key approve and key refuse do, and the notices
// are queued.
func (w Workflows) DecideKeyRequest(l *lists.List, a service.Actor, id string, approve bool) (string, error) {
	text, mails, err := KeyRequestDecisionAs(w.Site, w.KeyStore, l.Address, id, a, approve, time.Now())
	if err != nil {
		return "", err
	}
	for _, o := range mails {
		m := ownmail.Reply(o.List, nil, o.Kind, o.To, o.Sealed, o.Confidential, time.Now())
		m.AddStage("service", o.Kind)
		if _, err := w.Site.Queue(queue.Out).EnqueueBytes(m, o.Data); err != nil {
			return text, fmt.Errorf("queue the %s to %s: %w", o.Kind, o.To, err)
		}
	}
	return text, nil
}
