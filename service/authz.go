package service

import (
	"errors"
	"fmt"
	"time"

	"cloister/lists"
	"cloister/rules"
)

// Class is what an operation touches, which decides the token scopes that
// cover it.
type Class string

// Classes of operations.
const (
	// ClassSite: the whole site (create or delete a list, apply a style,
	// queues): console and site:admin only.
	ClassSite Class = "site"
	// ClassAdmin: a list's configuration, roster and keys (owners).
	ClassAdmin Class = "admin"
	// ClassModerate: a list's held posts (moderators and owners).
	ClassModerate Class = "moderate"
	// ClassRead: reading a list's state.
	ClassRead Class = "read"
	// ClassSelf: a person's own subscription, delivery and key.
	ClassSelf Class = "self"
	// ClassPublic: what anyone may see (the list directory).
	ClassPublic Class = "public"
)

// Scenario operations that authorize the owner and moderator operations
// (the list settings admin and moderate name their scenarios).
const (
	OpAdmin    = "admin"
	OpModerate = "moderate"
)

// Op describes one operation for authorization and the audit log.
type Op struct {
	// Name is the operation's name in the audit log, e.g. member.add.
	Name string
	// Class decides the token scopes that cover it.
	Class Class
	// Scenario is the scenario operation that decides it for a person
	// (admin, moderate, review, subscribe, unsubscribe, key), or "" when
	// the class alone decides.
	Scenario string
}

// The operations.
var (
	opListList       = Op{"list.list", ClassPublic, ""}
	opListShow       = Op{"list.show", ClassRead, OpAdmin}
	opListCreate     = Op{"list.create", ClassSite, ""}
	opListDelete     = Op{"list.delete", ClassSite, ""}
	opListSet        = Op{"list.set", ClassAdmin, OpAdmin}
	opListStyle      = Op{"list.style", ClassAdmin, OpAdmin}
	opStyleList      = Op{"style.list", ClassPublic, ""}
	opMemberList     = Op{"member.list", ClassRead, OpAdmin}
	opMemberAdd      = Op{"member.add", ClassAdmin, OpAdmin}
	opMemberRemove   = Op{"member.remove", ClassAdmin, OpAdmin}
	opMemberSet      = Op{"member.set", ClassAdmin, OpAdmin}
	opMemberDelivery = Op{"member.delivery", ClassSelf, OpAdmin}
	opMemberImport   = Op{"member.import", ClassAdmin, OpAdmin}
	opMemberExport   = Op{"member.export", ClassRead, OpAdmin}
	opSubscribe      = Op{"member.subscribe", ClassSelf, "subscribe"}
	opUnsubscribe    = Op{"member.unsubscribe", ClassSelf, "unsubscribe"}
)

// ReasonTexts explain the reasons of refusals by the scenarios, as the
// actor is shown them (mail replies, API errors, web pages).
var ReasonTexts = map[string]string{
	"subscribe_signed":  "subscription requests must be signed",
	"review_owner":      "only the list owners may see the member list",
	"review_subscriber": "only members may see the member list",
	"get_subscriber":    "only members may fetch the archive",
	"get_closed":        "the archive cannot be fetched by mail",
	"key_signed":        "key requests must be signed by the key's holder",
	"admin_signed":      "only list owners may do this, with a command mail signed by their own OpenPGP key or S/MIME certificate",
	"admin_listmaster":  "only the site's listmasters may do this, with a command mail signed by their own OpenPGP key or S/MIME certificate",
	"admin_closed":      "this list takes no owner commands by mail; such changes are made on the server",
	"moderate_signed":   "only moderators and owners may do this, with a command mail signed by their own OpenPGP key or S/MIME certificate",
	"moderate_owner":    "only list owners may do this, with a command mail signed by their own OpenPGP key or S/MIME certificate",
	"owner_smtp":        "owner and moderator commands are never accepted from unsigned mail; sign the command mail with your own OpenPGP key or S/MIME certificate",
	"no rule matched":   "the list's rules do not allow this request",
}

// ReasonText returns the text shown for a scenario's refusal reason.
func ReasonText(key string) string {
	if t, ok := ReasonTexts[key]; ok {
		return t
	}
	if key == "" {
		return "the list's rules do not allow this request"
	}
	return key
}

// ScenarioName returns the scenario a list uses for a scenario operation.
func ScenarioName(l *lists.List, op string) string {
	switch op {
	case "subscribe":
		return l.Settings.Subscribe
	case "unsubscribe":
		return l.Settings.Unsubscribe
	case "review":
		return l.Settings.Review
	case "get":
		return l.Settings.Get
	case "key":
		return l.Settings.Key
	case OpAdmin:
		return l.Settings.Admin
	case OpModerate:
		return l.Settings.Moderate
	}
	return ""
}

// Decide evaluates the list's scenario for a scenario operation with the
// actor's address and method. The owner and moderator operations are
// refused on smtp (mail that proves nothing about its From) whatever the
// scenario says: a site scenario that allowed it would let anyone who
// forges an owner's From run the list. The email commands and every other
// way in decide with this one function.
func (s *Service) Decide(a Actor, l *lists.List, op string) (rules.Decision, error) {
	name := ScenarioName(l, op)
	if name == "" {
		return rules.Decision{}, fmt.Errorf("no scenario for operation %q", op)
	}
	sc, err := s.scenarios.Get(name)
	if err != nil {
		return rules.Decision{}, fmt.Errorf("scenario %s: %w", name, err)
	}
	env := rules.Env{Sender: a.Address, ListName: l.Address, Method: a.Method}
	if a.Mail != nil {
		env.Signer, env.Encrypted, env.Signed, env.Header = a.Mail.Signer, a.Mail.Encrypted, a.Mail.Signed, a.Mail.Header
	}
	var d rules.Decision
	err = s.site.Lists.View(func(tx *lists.Tx) error {
		env.Roster = rules.ListsRoster{Tx: tx, Listmasters: s.site.Config.Listmasters, Domain: s.site.Config.Domain}
		d, _ = sc.Evaluate(env)
		return nil
	})
	if (op == OpAdmin || op == OpModerate) && (a.Method == rules.MethodSMTP || a.Method == "") &&
		d.Action != rules.ScenarioReject && d.Action != rules.ScenarioDiscard {
		d = rules.Decision{Action: rules.ScenarioReject, Reason: "owner_smtp", Scenario: d.Scenario}
	}
	return d, err
}

// errUnknownMethod refuses an actor whose method is none of the known.
var errUnknownMethod = errors.New("unknown authentication method")

// authorize decides whether the actor may run op on list l (nil for
// operations on no list). For a person it evaluates op's scenario; only
// do_it allows (the subscription workflows read the decision themselves
// with Decide).
func (s *Service) authorize(a Actor, op Op, l *lists.List) error {
	list := ""
	if l != nil {
		list = l.Address
	}
	switch {
	case a.Method == MethodConsole:
		return nil
	case a.Method == MethodToken:
		if op.Class == ClassPublic {
			return nil
		}
		stale := false
		for _, sc := range a.Scopes {
			if !sc.covers(op.Class, list) {
				continue
			}
			// A list scope names the list that existed when the token
			// was made, not a later one of the same name (tokens record
			// their making to the second).
			if sc.Kind == ScopeSiteAdmin || l == nil || a.TokenCreated.IsZero() || !l.Created.Truncate(time.Second).After(a.TokenCreated) {
				return nil
			}
			stale = true
		}
		if stale {
			return errorf(CodeForbidden, "this token was made before %s was created (a list deleted and made again is another list): make a new token", list)
		}
		if list == "" {
			return errorf(CodeForbidden, "this token's scopes do not allow %s", op.Name)
		}
		return errorf(CodeForbidden, "this token's scopes do not allow %s on %s", op.Name, list)
	case a.isPerson():
	default:
		return wrapf(errUnknownMethod, CodeUnauthenticated, "unknown authentication method %q", a.Method)
	}
	if a.Address == "" {
		return errorf(CodeUnauthenticated, "no address to act as")
	}
	switch op.Class {
	case ClassPublic:
		return nil
	case ClassSite:
		return errorf(CodeForbidden, "this is done by the site's operator on the server")
	}
	if op.Scenario == "" {
		return nil
	}
	if l == nil {
		return errorf(CodeInvalid, "%s needs a list", op.Name)
	}
	d, err := s.Decide(a, l, op.Scenario)
	if err != nil {
		return internal(err, "check the list's rules")
	}
	if d.Action != rules.ScenarioDoIt {
		return errorf(CodeForbidden, "%s", ReasonText(d.Reason))
	}
	return nil
}

// isSiteAdmin tells whether the actor may do anything on the site.
func (a Actor) isSiteAdmin() bool {
	if a.Method == MethodConsole {
		return true
	}
	if a.Method != MethodToken {
		return false
	}
	for _, sc := range a.Scopes {
		if sc.Kind == ScopeSiteAdmin {
			return true
		}
	}
	return false
}

// SiteAdmin tells whether the actor may do anything on the site (the
// console, a site:admin token). The service authorizes every operation
// itself; a way in may ask first, to refuse before reading a large body.
func (a Actor) SiteAdmin() bool { return a.isSiteAdmin() }
