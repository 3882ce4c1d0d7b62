// Package migrate reads the lists of other list servers, Schleuder and
// Mailman 3, into a neutral form (a Plan: settings, members, keys) that
// `cloister import` turns into a Cloister list. It reads the other server's
// own files and exports and never writes to them.
package migrate
