// Package rules holds the authorization scenario language (after Sympa's
// scenarios) and the rules of the posting chain.
package rules

import (
	"fmt"
	"regexp"
	"strings"
)

// A Scenario is a parsed authorization scenario: rules tried first to last,
// the first whose methods include the request's method and whose condition
// holds decides. A Scenario is never changed after parsing, so one value may
// be evaluated by many goroutines at once.
type Scenario struct {
	// Name is the scenario's name, normally its file name
	// (<operation>.<name>, for example "send.private").
	Name string
	// Title is the text of the title.gettext or title line, if any.
	Title string
	// Rules are the rules in file order.
	Rules []ScenarioRule
}

// ScenarioRule is one line of a scenario: condition, methods and action.
type ScenarioRule struct {
	// Line is the 1-based line number in the scenario file.
	Line int
	// Text is the rule as written, without surrounding blanks or a trailing
	// comment.
	Text string
	// Cond is the condition.
	Cond ScenarioCondition
	// Methods are the authentication methods the rule applies to.
	Methods []string
	// Action is what the rule decides.
	Action ScenarioAction
	// Reason is the reason key of reject(reason='...'), empty otherwise.
	Reason string
	// Quiet is set by ",quiet": no notice is sent to the sender.
	Quiet bool
}

// ScenarioCondition is a condition such as is_subscriber([listname],[sender]),
// possibly negated with "!".
type ScenarioCondition struct {
	// Negate is set when the condition is written with a leading "!".
	Negate bool
	// Name is the condition's name, for example "is_subscriber".
	Name string
	// Args are the condition's arguments in order.
	Args []ScenarioArg

	re *regexp.Regexp // compiled regex of match(), set by the parser
}

// ScenarioArgKind says what an argument of a condition is.
type ScenarioArgKind int

// The kinds of condition arguments.
const (
	// ScenarioLiteral is a bare word or a quoted string.
	ScenarioLiteral ScenarioArgKind = iota
	// ScenarioVariable is a variable such as [sender] or [header->Subject].
	ScenarioVariable
	// ScenarioRegexp is a /regex/, only allowed as the second argument of match.
	ScenarioRegexp
)

// ScenarioArg is one argument of a condition.
type ScenarioArg struct {
	// Kind says whether Value is a literal, a variable name or a regex.
	Kind ScenarioArgKind
	// Value is the literal text (without quotes), the variable name without
	// brackets ("sender", "header->Content-Type", "msg->size") or the regex
	// source between the slashes.
	Value string
}

// ScenarioAction is what a matching rule decides.
type ScenarioAction string

// The actions a scenario rule may take.
const (
	// ScenarioDoIt accepts the request.
	ScenarioDoIt ScenarioAction = "do_it"
	// ScenarioReject refuses the request, with a notice unless quiet.
	ScenarioReject ScenarioAction = "reject"
	// ScenarioRequestAuth asks the sender to confirm with a token; the
	// confirmed request is evaluated again with method md5.
	ScenarioRequestAuth ScenarioAction = "request_auth"
	// ScenarioEditorkey holds the request for the moderators (editors).
	ScenarioEditorkey ScenarioAction = "editorkey"
	// ScenarioEditor forwards the request to the moderators, who resend it
	// themselves (Sympa's old-style moderation).
	ScenarioEditor ScenarioAction = "editor"
	// ScenarioOwner holds the request for the list owners.
	ScenarioOwner ScenarioAction = "owner"
	// ScenarioDiscard drops the request silently (logged only).
	ScenarioDiscard ScenarioAction = "discard"
)

// The authentication methods a rule may name (DESIGN.md section 7).
const (
	// MethodSMTP: nothing proven; the From address is as claimed.
	MethodSMTP = "smtp"
	// MethodMD5: the sender answered a confirmation token sent to the address.
	MethodMD5 = "md5"
	// MethodPGP: a good OpenPGP signature whose signer address is the sender.
	MethodPGP = "pgp"
	// MethodSMIME: a good S/MIME signature whose signer address is the sender.
	MethodSMIME = "smime"
)

// ScenarioMethods lists every authentication method, in the order they are
// usually written.
func ScenarioMethods() []string {
	return []string{MethodSMTP, MethodMD5, MethodPGP, MethodSMIME}
}

// ScenarioOperations lists the operations a list names a scenario for: the
// contract's six, and admin (the owner commands) and moderate (the moderator
// commands).
func ScenarioOperations() []string {
	return []string{"send", "subscribe", "unsubscribe", "review", "get", "key", "admin", "moderate"}
}

// String renders the condition in scenario syntax, for example
// `!is_subscriber([listname],[sender])`.
func (c ScenarioCondition) String() string {
	var b strings.Builder
	if c.Negate {
		b.WriteByte('!')
	}
	b.WriteString(c.Name)
	b.WriteByte('(')
	for i, a := range c.Args {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(a.String())
	}
	b.WriteByte(')')
	return b.String()
}

// String renders the argument in scenario syntax.
func (a ScenarioArg) String() string {
	switch a.Kind {
	case ScenarioVariable:
		return "[" + a.Value + "]"
	case ScenarioRegexp:
		return "/" + a.Value + "/"
	}
	if a.Value != "" && !strings.ContainsAny(a.Value, " \t,()[]'\"/#") {
		return a.Value
	}
	if strings.Contains(a.Value, "'") {
		return `"` + a.Value + `"`
	}
	return "'" + a.Value + "'"
}

// actionString renders an action with its reason and quiet flag in scenario
// syntax, for example reject(reason='send_closed'),quiet.
func actionString(a ScenarioAction, reason string, quiet bool) string {
	s := string(a)
	if reason != "" {
		s += fmt.Sprintf("(reason='%s')", reason)
	}
	if quiet {
		s += ",quiet"
	}
	return s
}

// quietAllowed says which actions accept the ",quiet" modifier, as in Sympa:
// it silences the notice a sender would otherwise get. request_auth exists to
// send a message and discard never sends one, so neither takes it.
func quietAllowed(a ScenarioAction) bool {
	switch a {
	case ScenarioDoIt, ScenarioReject, ScenarioEditorkey, ScenarioEditor, ScenarioOwner:
		return true
	}
	return false
}
