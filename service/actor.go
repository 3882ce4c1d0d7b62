package service

import (
	"strings"
	"time"

	"cloister/rules"
)

// Methods of actors that are not proven by a mail: an API token and the
// operator at the server's shell.
const (
	// MethodToken is an API token, authorized by its Scopes.
	MethodToken = "token"
	// MethodConsole is the operator running the CLI locally as the site's
	// user: a site admin.
	MethodConsole = "console"
)

// Ways into the service, recorded in the audit log as Actor.Via.
const (
	ViaCLI  = "cli"
	ViaMail = "mail"
	ViaAPI  = "api"
	ViaWeb  = "web"
)

// Actor is who asks for an operation and how they were authenticated.
type Actor struct {
	// Address is the actor's mail address (empty for a token or the
	// console, which act for nobody in particular).
	Address string `json:"address,omitempty"`
	// Method is rules.MethodSMTP, MethodMD5, MethodPGP or MethodSMIME for a
	// person proven by a mail or a web login, MethodToken or MethodConsole.
	Method string `json:"method"`
	// Scopes authorize a MethodToken actor; they are ignored otherwise.
	Scopes []Scope `json:"scopes,omitempty"`
	// Via is the way in: cli, mail, api or web.
	Via string `json:"via"`
	// Name says who acts in notices and logs when more than the address
	// is to be said ("operator alice", "ann@example.org (signed
	// command)", a token's name); the audit log records Address.
	Name string `json:"name,omitempty"`
	// Mail holds what a command mail proves besides its method, for the
	// scenarios' conditions (is_signed, is_encrypted, [header->...]); nil
	// for other ways in.
	Mail *MailFacts `json:"-"`
	// Token names the API token (its public ID, never its secret), for
	// the audit log.
	Token string `json:"token,omitempty"`
	// TokenCreated is when the API token was made: a list scope covers only
	// a list made before it, so that the token of a list that was deleted
	// does not run a new list of the same name, nor a token made ahead of
	// a list the list someone makes later. Zero: not checked.
	TokenCreated time.Time `json:"-"`
}

// MailFacts are what the scenarios may test about a command mail.
type MailFacts struct {
	// Signer is the address bound to a good signature, if any.
	Signer string
	// Encrypted and Signed describe the command mail.
	Encrypted, Signed bool
	// Header returns the mail's header fields of a name.
	Header func(name string) []string
	// Confirmed is set when the request was confirmed by a token sent to
	// the address it concerns; Approved when an owner approved it. Only
	// the email commands set them, when a token comes back.
	Confirmed, Approved bool
}

// Console returns the actor of the operator at the server's shell.
func Console() Actor { return Actor{Method: MethodConsole, Via: ViaCLI} }

// who names the actor in notices and logs.
func (a Actor) who() string {
	switch {
	case a.Name != "":
		return a.Name
	case a.Address != "":
		return a.Address
	case a.Method == MethodToken:
		return "API token " + a.Token
	}
	return "operator"
}

// isPerson tells whether the actor is authorized by the scenarios.
func (a Actor) isPerson() bool {
	switch a.Method {
	case rules.MethodSMTP, rules.MethodMD5, rules.MethodPGP, rules.MethodSMIME:
		return true
	}
	return false
}

// is tells whether address is the actor's own.
func (a Actor) is(address string) bool {
	return a.Address != "" && strings.EqualFold(strings.TrimSpace(a.Address), strings.TrimSpace(address))
}
