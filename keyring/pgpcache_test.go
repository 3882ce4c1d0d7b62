package keyring

import (
	"errors"
	"testing"
	"time"

	"cloister/internal/gnupg"
)

// judgements returns how many times the keyring judged the key of fpr.
func judgements(k *Keyring, fpr string) int {
	k.mu.Lock()
	p := k.parsed[fpr]
	k.mu.Unlock()
	if p == nil {
		return 0
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.judgements
}

// TestJudgementKeptUntilExpiry checks that a key is judged once for any
// number of lookups, judged again when a lookup's time passes its expiry
// (or goes back before it), and that each judgement is right.
func TestJudgementKeptUntilExpiry(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKeyExpiring("Ida <ida@subs.test>", "cv25519", "2d")
	k := newKeyring(t)
	if _, err := k.AddOpenPGP("ida@subs.test", g.ExportPublic(fpr), false); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	steps := []struct {
		at        time.Time
		expired   bool
		judgement int // judgements made so far
	}{
		{now, false, 1},
		{now.Add(time.Hour), false, 1},
		{now.Add(24 * time.Hour), false, 1},
		{now.Add(72 * time.Hour), true, 2},
		{now.Add(96 * time.Hour), true, 2},
		{now.Add(time.Hour), false, 3}, // a clock set back is judged again
	}
	for i, s := range steps {
		for range 100 {
			_, err := k.EncryptionKeyPGP("ida@subs.test", s.at)
			if got := errors.Is(err, ErrExpired); got != s.expired || (!s.expired && err != nil) {
				t.Fatalf("step %d: err = %v, want expired %v", i, err, s.expired)
			}
		}
		if n := judgements(k, fpr); n != s.judgement {
			t.Fatalf("step %d: %d judgements, want %d", i, n, s.judgement)
		}
	}
}

// TestRevocationRejudged checks that a revocation, which arrives as a
// change of the stored record (here written by another handle on the same
// keyring, as another process would), is seen at the next lookup although
// the key's last judgement had no time limit.
func TestRevocationRejudged(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKey("Jo <jo@subs.test>", "cv25519")
	k := newKeyring(t)
	if _, err := k.AddOpenPGP("jo@subs.test", g.ExportPublic(fpr), false); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for range 10 {
		if _, err := k.EncryptionKeyPGP("jo@subs.test", now); err != nil {
			t.Fatal(err)
		}
	}
	if n := judgements(k, fpr); n != 1 {
		t.Fatalf("%d judgements for 10 lookups, want 1", n)
	}
	other, err := Open(k.Path(), testPassphrase, nil)
	if err != nil {
		t.Fatal(err)
	}
	g.Revoke(fpr)
	if _, err := other.AddOpenPGP("jo@subs.test", g.ExportPublic(fpr), false); err != nil {
		t.Fatal(err)
	}
	if _, err := k.EncryptionKeyPGP("jo@subs.test", now); !errors.Is(err, ErrRevoked) {
		t.Fatalf("after the revocation: %v", err)
	}
}

// TestJudgementSpan checks the span of a judgement on a key with an
// expiring key and subkey: it ends at the expiry and starts at the latest
// signature before now.
func TestJudgementSpan(t *testing.T) {
	g := gnupg.New(t)
	fpr := g.GenKeyExpiring("Kim <kim@subs.test>", "cv25519", "3d")
	el, err := readKeys(g.ExportPublic(fpr))
	if err != nil {
		t.Fatal(err)
	}
	e := el[0]
	now := time.Now().Add(time.Hour)
	from, until := judgementSpan(e, now)
	sig, err := e.PrimarySelfSignature(time.Time{}, nil)
	if err != nil || sig.KeyLifetimeSecs == nil {
		t.Fatalf("self-signature %v without lifetime", err)
	}
	expiry := e.PrimaryKey.CreationTime.Add(time.Duration(*sig.KeyLifetimeSecs) * time.Second)
	if !until.Equal(expiry) {
		t.Fatalf("until %v, want the expiry %v", until, expiry)
	}
	if from.After(now) || from.Before(e.PrimaryKey.CreationTime) {
		t.Fatalf("from %v, want between the key's creation %v and now", from, e.PrimaryKey.CreationTime)
	}
}
