package runners

import (
	"strings"
	"testing"
	"time"

	"cloister/internal/site"
	"cloister/lists"
	"cloister/moderation"
	"cloister/queue"
)

// restart opens the site's state again, as a runner process started anew
// does, with the same keys (the keyring is not what is tested here), and
// runs the sweep a supervisor runs when it starts (held posts and tokens).
func (s *testSite) restart(t *testing.T) {
	t.Helper()
	n, err := site.Open(s.Config, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	n.Keys, n.Keyring, n.ArchiveKeys, n.KeyStore, n.FetchKey = s.Keys, s.Keyring, s.ArchiveKeys, s.KeyStore, s.FetchKey
	s.Site = n
	if _, err := moderation.ExpireHeld(s.Site, time.Now()); err != nil {
		t.Fatal(err)
	}
}

// TestKeySetChallengeLifetime: a key set challenge is answered, signed, by
// a runner process other than the one that sent it, some time after it was
// sent (the list's clock is set back while the challenge is made, so the
// real gpg signature of the answer is fresh): within token_expire_hours
// (72) the key is registered; after it the answer is refused as expired,
// not as unknown.
func TestKeySetChallengeLifetime(t *testing.T) {
	for _, tc := range []struct {
		name string
		age  time.Duration
		ok   bool
	}{
		{"90 minutes", 90 * time.Minute, true},
		{"71 hours", 71 * time.Hour, true},
		{"73 hours", 73 * time.Hour, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, homes, keys := keySite(t)
			dan := homes["dan@else.test"]
			key := string(dan.ExportPublic("dan@else.test"))
			sent := time.Now().Add(-tc.age)
			s.Lists.Now = func() time.Time { return sent }
			s.deliver(t, queue.SubRequest, "dan@else.test", "From: dan@else.test\nSubject: x\n\nkey set\n\n"+key)
			s.drain(t)
			var tok string
			for _, m := range s.mailbox(t, "dan@else.test") {
				if strings.Contains(string(m), "Subject: Confirm: register the OpenPGP key") {
					tok = tokenIn(t, decryptReply(t, dan, string(m)))
				}
			}
			if tok == "" {
				t.Fatal("no challenge sent")
			}

			s.restart(t)
			signed := string(dan.PGPMIMESigned("From: dan@else.test\nTo: team-confirm+"+tok+"@lists.test\nSubject: Re: Confirm\n",
				[]byte("Content-Type: text/plain\n\nyes\n"), "dan@else.test"))
			s.deliverConfirm(t, tok, "dan@else.test", signed)
			s.drain(t)
			_, registered := keys.subs["dan@else.test"]
			reply := lastMail(t, s, "dan@else.test")
			if strings.Contains(reply, "multipart/encrypted") {
				reply = decryptReply(t, dan, reply)
			}
			if tc.ok {
				if !registered {
					t.Fatalf("key not registered after %s; reply:\n%s", tc.age, reply)
				}
				return
			}
			if registered {
				t.Fatalf("key registered by a challenge %s old", tc.age)
			}
			if !strings.Contains(reply, "this token has expired") {
				t.Fatalf("answer after %s not refused as expired:\n%s", tc.age, reply)
			}
			var tk *lists.Token
			_ = s.Lists.View(func(tx *lists.Tx) error { tk, _ = tx.Token(tok); return nil })
			if tk == nil {
				t.Fatal("the expired token was purged before it could be named as expired")
			}
		})
	}
}
