// Package service is the one layer through which every way into Cloister
// changes or reads a site: the operator CLI, the email commands, the REST
// API daemon and the web interface all call it, and none of them writes the
// stores around it.
//
// Every operation is a method of *Service taking a context, the Actor who
// asks and a request struct, and returning a plain result struct (JSON tags
// on both, so the API serializes them as they are). The API interface lists
// them all; a remote client may satisfy it too.
//
// # Authorization
//
// Each operation has a class (site, admin, moderate, read, self, public)
// and, for actors proven by mail or by a web login, the scenario operation
// that decides it (admin, moderate, review, subscribe, unsubscribe, key).
// How an actor is authorized depends on its Method:
//
//   - MethodConsole: the operator at the server's shell (the CLI run
//     locally as the site's user) is a site admin: everything is allowed.
//   - MethodToken: an API token is authorized by its Scopes first
//     (site:admin covers everything; list:L:owner covers L's admin,
//     moderate and read operations; list:L:moderator moderate and read;
//     list:L:read read only; any other list is forbidden), then by the
//     service's own checks (an address that must be a member, a setting
//     that owners may not change).
//   - rules.MethodSMTP, MethodMD5, MethodPGP, MethodSMIME: a person proven
//     by a mail or a web login is authorized by the same scenarios and
//     roles as the email commands: the list's scenario for the operation is
//     evaluated with the actor's address and method, and owner and
//     moderator operations are never allowed on smtp whatever the scenario
//     says. A web session logged in by an email token (md5) can thus do
//     exactly what an md5-confirmed mail can do, and no more.
//
// Refusals are *Error values with a stable Code (see errors.go) and a
// message safe to show the actor.
//
// # Keys
//
// The email key commands change subscriber keys through KeyBind,
// KeyUnbind, CertWithdraw and ListKeyCertify after proving the change
// (security invariant 3), naming its grounds; the service writes through
// the KeyStore given by WithKeyStore. The lists' secret keys are handled by
// ListKeyGenerate, ListKeyImport, ListKeyRevoke and KeyringRekey, which
// the API client refuses as local only. TestNoStoreWritesAroundService
// keeps the CLI and the email commands from writing the stores around
// the service.
//
// # Audit
//
// Every change (never a read) is recorded in the audit log with the actor,
// its method, the way in (Via), the scopes of a token, the operation, the
// list, the target (with a changed setting's new value, or a key's
// fingerprint) and the result code; see audit.go.
package service
