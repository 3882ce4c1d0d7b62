package rules

import (
	"fmt"
	"net/mail"
	"slices"
	"strconv"
	"strings"
)

// NoRuleMatched is the reason given when no rule of a scenario matched.
const NoRuleMatched = "no rule matched"

// maxValues bounds how many values one variable yields (a header may repeat).
const maxValues = 100

// Roster answers the membership questions of the conditions is_subscriber,
// is_owner, is_editor and is_listmaster. list is the list address from
// [listname] or whatever literal the scenario names (for example "spammer" in
// is_subscriber(spammer,[sender]): resolving a bare name is the roster's
// business). Addresses reach the roster trimmed, stripped of any display name
// and lowercased; an empty address is never asked about.
type Roster interface {
	// IsSubscriber reports whether addr is a member of list.
	IsSubscriber(list, addr string) bool
	// IsOwner reports whether addr owns list.
	IsOwner(list, addr string) bool
	// IsEditor reports whether addr moderates list.
	IsEditor(list, addr string) bool
	// IsListmaster reports whether addr is one of the site's listmasters.
	IsListmaster(addr string) bool
}

// Env is what a scenario is evaluated against: one request by one sender.
type Env struct {
	// Sender is the address the request comes from ([sender]).
	Sender string
	// ListName is the list address ([listname]).
	ListName string
	// Signer is the address bound to a good signature, if any ([signer]).
	Signer string
	// Method is how the sender was authenticated: smtp, md5, pgp or smime.
	Method string
	// Encrypted reports the request arrived encrypted (is_encrypted()).
	Encrypted bool
	// Signed reports the request carried a good signature (is_signed()).
	Signed bool
	// Size is the message size in bytes ([msg->size]).
	Size int64
	// Header returns every value of a header field, matching the name case
	// insensitively (textproto.MIMEHeader.Values does); nil means no headers.
	Header func(name string) []string
	// Roster answers membership questions; nil answers false to all.
	Roster Roster
}

// Decision is the outcome of evaluating a scenario.
type Decision struct {
	// Action is what to do.
	Action ScenarioAction
	// Reason is the reason key of a reject: the rule's reason='...', or
	// NoRuleMatched. Empty for other actions and a reject without reason.
	Reason string
	// Quiet is set when the sender must get no notice.
	Quiet bool
	// Scenario is the name of the scenario that decided.
	Scenario string
	// Method is the authentication method evaluated.
	Method string
	// Line is the line of the deciding rule, 0 when no rule matched.
	Line int
}

// String renders the decision in scenario syntax, for example do_it or
// reject(reason='send_closed'),quiet.
func (d Decision) String() string {
	return actionString(d.Action, d.Reason, d.Quiet)
}

// Trace records one rule tried by Evaluate and why it did or did not decide.
type Trace struct {
	// Line is the rule's line in the scenario file.
	Line int
	// Rule is the rule as written.
	Rule string
	// MethodOK reports the rule lists the request's method; when false the
	// condition was not evaluated.
	MethodOK bool
	// Matched reports the condition held (only meaningful when MethodOK).
	Matched bool
	// Decided reports this rule decided: MethodOK and Matched.
	Decided bool
	// Why explains the outcome, for example
	// `is_subscriber(list@example.org, bob@example.org) is false`.
	Why string
}

// Evaluate tries the rules first to last; the first whose methods include
// env.Method and whose condition holds decides. When none does the request is
// rejected with reason NoRuleMatched. The trace lists every rule tried.
func (s *Scenario) Evaluate(env Env) (Decision, []Trace) {
	d := Decision{Action: ScenarioReject, Reason: NoRuleMatched, Method: env.Method}
	if s == nil {
		return d, nil
	}
	d.Scenario = s.Name
	trace := make([]Trace, 0, len(s.Rules))
	for _, r := range s.Rules {
		t := Trace{Line: r.Line, Rule: r.Text}
		if t.Rule == "" {
			t.Rule = r.Cond.String() + " " + strings.Join(r.Methods, ",") + " -> " + actionString(r.Action, r.Reason, r.Quiet)
		}
		if !slices.Contains(r.Methods, env.Method) {
			t.Why = fmt.Sprintf("method %s not in %s", quoteEmpty(env.Method), strings.Join(r.Methods, ","))
			trace = append(trace, t)
			continue
		}
		t.MethodOK = true
		t.Matched, t.Why = r.Cond.eval(env)
		trace = append(trace, t)
		if t.Matched {
			trace[len(trace)-1].Decided = true
			return Decision{
				Action:   r.Action,
				Reason:   r.Reason,
				Quiet:    r.Quiet,
				Scenario: s.Name,
				Method:   env.Method,
				Line:     r.Line,
			}, trace
		}
	}
	return d, trace
}

// eval evaluates the condition, negation included, and explains the result.
func (c ScenarioCondition) eval(env Env) (bool, string) {
	ok, detail := c.evalPlain(env)
	if c.Negate {
		return !ok, fmt.Sprintf("!%s is %t (%s is %t)", c.Name, !ok, detail, ok)
	}
	return ok, fmt.Sprintf("%s is %t", detail, ok)
}

// evalPlain evaluates the condition without its negation. detail shows the
// condition with its arguments' values, for traces.
func (c ScenarioCondition) evalPlain(env Env) (bool, string) {
	vals := make([][]string, len(c.Args))
	shown := make([]string, len(c.Args))
	for i, a := range c.Args {
		vals[i] = a.values(env)
		shown[i] = showValues(a, vals[i])
	}
	detail := c.Name + "(" + strings.Join(shown, ", ") + ")"
	switch c.Name {
	case "true":
		return true, detail
	case "is_encrypted":
		return env.Encrypted, detail
	case "is_signed":
		return env.Signed, detail
	case "is_listmaster":
		if env.Roster == nil {
			return false, detail + " [no roster]"
		}
		for _, addr := range addresses(vals[0]) {
			if env.Roster.IsListmaster(addr) {
				return true, detail
			}
		}
		return false, detail
	case "is_subscriber", "is_owner", "is_editor":
		if env.Roster == nil {
			return false, detail + " [no roster]"
		}
		ask := env.Roster.IsSubscriber
		if c.Name == "is_owner" {
			ask = env.Roster.IsOwner
		} else if c.Name == "is_editor" {
			ask = env.Roster.IsEditor
		}
		for _, list := range addresses(vals[0]) {
			for _, addr := range addresses(vals[1]) {
				if ask(list, addr) {
					return true, detail
				}
			}
		}
		return false, detail
	case "equal":
		for _, a := range vals[0] {
			for _, b := range vals[1] {
				if strings.EqualFold(a, b) {
					return true, detail
				}
			}
		}
		return false, detail
	case "match":
		re := c.re
		if re == nil {
			var err error
			if re, err = compileScenarioRegexp(c.Args[1].Value); err != nil {
				return false, detail + " [bad regex]"
			}
		}
		for _, v := range vals[0] {
			if re.MatchString(v) {
				return true, detail
			}
		}
		return false, detail
	}
	return false, detail + " [unknown condition]"
}

// values returns the argument's values in env. A header that is absent yields
// one empty value, as in Sympa, so equal([header->X],"") tests for absence.
func (a ScenarioArg) values(env Env) []string {
	if a.Kind != ScenarioVariable {
		return []string{a.Value}
	}
	switch a.Value {
	case "sender":
		return []string{env.Sender}
	case "listname":
		return []string{env.ListName}
	case "signer":
		return []string{env.Signer}
	case "msg->size":
		return []string{strconv.FormatInt(env.Size, 10)}
	}
	if field, ok := strings.CutPrefix(a.Value, "header->"); ok && env.Header != nil {
		vs := env.Header(field)
		if len(vs) > maxValues {
			vs = vs[:maxValues]
		}
		if len(vs) > 0 {
			return vs
		}
	}
	return []string{""}
}

// addresses normalises values to bare lowercase addresses, dropping empty
// ones. A value with a display name ("Bob <bob@example.org>") yields its
// address; anything unparsable is used as written.
func addresses(vals []string) []string {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if strings.ContainsAny(v, "<\"(") {
			if a, err := mail.ParseAddress(v); err == nil {
				v = a.Address
			}
		}
		v = strings.ToLower(strings.TrimSpace(v))
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// showValues renders an argument and its values for a trace.
func showValues(a ScenarioArg, vals []string) string {
	switch a.Kind {
	case ScenarioRegexp:
		return a.String()
	case ScenarioLiteral:
		return strconv.Quote(clip(a.Value))
	}
	q := make([]string, len(vals))
	for i, v := range vals {
		q[i] = strconv.Quote(clip(v))
	}
	s := strings.Join(q, " ")
	if len(vals) > 1 {
		s = "{" + s + "}"
	}
	return a.String() + "=" + s
}

// clip shortens long values in traces.
func clip(s string) string {
	const max = 72
	if len(s) <= max {
		return s
	}
	return s[:max] + "..."
}

func quoteEmpty(s string) string {
	if s == "" {
		return `""`
	}
	return s
}
