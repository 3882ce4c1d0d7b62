package commands

import (
	"fmt"
	"strings"

	"cloister/lists"
	"cloister/rules"
)

// Operations of the owner and moderator commands. Like the contract's
// operations, each is authorized by the scenario its list setting names
// (admin, moderate; built-ins in etc/scenarios).
const (
	OpAdmin    = "admin"    // add, remove, members, set SETTING VALUE, key set ADDRESS
	OpModerate = "moderate" // approve, reject, discard
)

// reasonTexts explain the reasons of refusals by the scenarios.
var reasonTexts = map[string]string{
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

func reasonText(key string) string {
	if t, ok := reasonTexts[key]; ok {
		return t
	}
	if key == "" {
		return "the list's rules do not allow this request"
	}
	return key
}

// scenarioName returns the scenario a list uses for an operation.
func scenarioName(l *lists.List, op string) string {
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

// Authorize evaluates the list's scenario for op with the context's sender
// and method. The owner and moderator commands are refused on smtp (mail
// that proves nothing about its From) whatever the scenario says: a site
// scenario that allowed it would let anyone who forges an owner's From run
// the list.
func (c *Context) Authorize(op string) (rules.Decision, error) {
	name := scenarioName(c.List, op)
	if name == "" {
		return rules.Decision{}, fmt.Errorf("no scenario for operation %q", op)
	}
	if c.Scenarios == nil {
		return rules.Decision{}, fmt.Errorf("no scenario set")
	}
	sc, err := c.Scenarios.Get(name)
	if err != nil {
		return rules.Decision{}, err
	}
	env := rules.Env{
		Sender:    c.Sender,
		ListName:  c.List.Address,
		Signer:    c.Signer,
		Method:    c.Method,
		Encrypted: c.Encrypted,
		Signed:    c.Signed,
		Header:    c.Header,
	}
	var d rules.Decision
	err = c.Site.Lists.View(func(tx *lists.Tx) error {
		env.Roster = rules.ListsRoster{Tx: tx, Listmasters: c.Site.Config.Listmasters, Domain: c.Site.Config.Domain}
		d, _ = sc.Evaluate(env)
		return nil
	})
	if (op == OpAdmin || op == OpModerate) && (c.Method == rules.MethodSMTP || c.Method == "") &&
		d.Action != rules.ScenarioReject && d.Action != rules.ScenarioDiscard {
		d = rules.Decision{Action: rules.ScenarioReject, Reason: "owner_smtp", Scenario: d.Scenario}
	}
	return d, err
}

// refusal is the reply for a decision that refuses.
func refusal(d rules.Decision) Result {
	return refused("%s", reasonText(d.Reason))
}

// sameAddress compares two addresses ignoring case.
func sameAddress(a, b string) bool {
	return strings.EqualFold(strings.TrimSpace(a), strings.TrimSpace(b))
}
