package rules

import (
	"testing"

	"cloister/mailmsg"
	"cloister/queue"
)

// FuzzRunChain runs the posting chain over arbitrary messages, envelope
// senders and pattern settings: it must never panic, and every rule is
// either a hit or a miss.
func FuzzRunChain(f *testing.F) {
	f.Add([]byte(okPost), "bob@example.net", `.*@example\.net`, `X-Mailer:mass`)
	f.Add([]byte("From: a@b.c\nSubject: help\n\nsubscribe\n"), "", "", "")
	f.Add([]byte("From: a@b.c\nTo: list@example.org\nX-Loop: list@example.org\n\n"), "MAILER-DAEMON", "(", "X:(")
	f.Add([]byte("From: =?utf-8?q?=FF?= <x@y>\nSubject: =?bogus?q?x?=\nContent-Type: text/plain\n\n\n\n"), "x@y", "x@y", "Subject:.")
	f.Fuzz(func(t *testing.T, raw []byte, sender, banned, suspicious string) {
		msg, err := mailmsg.Parse(raw)
		if err != nil {
			return
		}
		p := testPost(t, "From: a@b.c\n\n", queue.Meta{Sender: sender, Verdict: "none", Encryption: "none", Auth: "smtp"}, nil)
		p.Msg, p.Body = msg, raw
		p.Meta.From, _ = msg.FromAddress()
		p.SiteBanned = []string{banned}
		// Unchecked patterns, as a hand-edited store could hold.
		p.List.Settings.BannedAddresses = banned
		p.List.Settings.SuspiciousHeaders = suspicious
		hits, misses, _ := RunChain(PostingChain, p)
		if len(hits)+len(misses) != len(PostingChain) {
			t.Fatalf("hits %v + misses %v do not cover the chain", hits, misses)
		}
	})
}
