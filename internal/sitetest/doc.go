// Package sitetest is the one test harness of the packages that test a
// whole site: a real site in a temporary directory (lists.test, its SMTP
// MTA an in-process sink) with the list team@lists.test (owner ann,
// members bob and cat), the same site made through the cloister command
// line, posts queued as cmd/deliver queues them, and the long-lived peer
// processes (OpenPGP.js, Bouncy Castle) that the interoperability tests
// drive. Keys are made by the real peers (gpg through internal/gnupg,
// openssl through internal/testca); nothing here fakes the crypto or the
// MTA's protocol. It is test support; nothing in Cloister itself uses it.
package sitetest
