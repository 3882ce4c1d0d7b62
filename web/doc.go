// Package web is Cloister's web interface (`cloister web`): server-rendered
// pages for subscribers, owners and moderators, served over TLS, with login
// by an email token (the md5 method) or a TLS client certificate matching
// the S/MIME certificate bound to the address (the smime method).
//
// Every read and change goes through the service layer with an actor whose
// method is the session's, so the list's scenarios decide on the web exactly
// as they do for mail proven the same way. Sessions and login tokens live in
// the daemon's memory only: a restart logs everyone out, and a login token
// is kept as its SHA-256 digest, never in clear.
package web
