// Package commands reads and carries out the email commands sent to a list's
// -request, -join, -leave and -confirm addresses: one file per command, one
// table (All), a bounded parser for command mail, and the one reply per mail.
package commands
