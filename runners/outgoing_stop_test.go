package runners

import (
	"context"
	"fmt"
	"testing"

	"github.com/ProtonMail/go-crypto/openpgp/packet"
	openpgp "github.com/ProtonMail/go-crypto/openpgp/v2"

	"cloister/lists"
	"cloister/queue"
)

// TestStopMidFanout: a runner stopped while a fan-out's copies are being
// made and sent (its context cancelled, as SIGTERM does) loses nobody. The
// entry goes back to queue/out with its journal, not finished with the
// recipients it never reached; the next run sends exactly those, and every
// recipient gets one copy. (The fan-out used to return as if done: 271 of
// 303 recipients were neither delivered nor deferred.)
func TestStopMidFanout(t *testing.T) {
	s := newTestSite(t)
	listKey, err := openpgp.NewEntity("team", "", "team@lists.test", &packet.Config{Algorithm: packet.PubKeyAlgoEdDSA})
	if err != nil {
		t.Fatal(err)
	}
	// The list signs: the copies are made by makeCopies' workers.
	keys := &memKeys{list: openpgp.EntityList{listKey}, subs: map[string]*openpgp.Entity{}}
	s.Keys, s.mem = keys, keys
	s.setList(t, map[string]string{"pgp_distrib_sign": "yes"})
	err = s.Lists.Update(func(tx *lists.Tx) error {
		for i := range 300 {
			if err := tx.AddMember("team@lists.test", &lists.Member{Address: fmt.Sprintf("member%03d@subs.test", i)}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	mta := startStallMTA(t)
	s.Config.SMTPAddr = mta.addr
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	for _, r := range []Runner{Incoming{}, Rules{}, Pipeline{}, Archive{}} {
		if err := (&Loop{Site: s.Site, Runner: r, Slice: queue.All, Once: true}).Run(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	names, err := s.Queue(queue.Out).Pending(queue.All)
	if err != nil || len(names) != 1 {
		t.Fatalf("queue/out holds %d entries (%v), want 1", len(names), err)
	}
	e, err := s.Queue(queue.Out).Peek(names[0])
	if err != nil {
		t.Fatal(err)
	}
	rcpts := e.Meta.Recipients
	for _, r := range rcpts {
		mta.stall[r] = true
	}

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- (&Loop{Site: s.Site, Runner: Outgoing{}, Slice: queue.All}).Run(ctx) }()
	eventually(t, "the first transactions held by the MTA", func() bool { return mta.waiting.Load() >= 1 })
	cancel()
	mta.answer()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	sent := 0
	for _, r := range rcpts {
		sent += mta.count(r)
	}
	if sent == len(rcpts) {
		t.Fatalf("all %d copies went before the stop: the test did not stop a fan-out under way", sent)
	}
	if n := s.count(t, queue.Out); n != 1 {
		t.Fatalf("after the stop queue/out holds %d entries, want the entry back (1); %d of %d copies sent", n, sent, len(rcpts))
	}

	if err := (&Loop{Site: s.Site, Runner: Outgoing{}, Slice: queue.All, Once: true}).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range rcpts {
		if n := mta.count(r); n != 1 {
			t.Errorf("%s got %d copies, want 1", r, n)
		}
	}
	for _, q := range []string{queue.Out, queue.Retry, queue.Bad} {
		if n := s.count(t, q); n != 0 {
			t.Errorf("queue %s holds %d entries after the second run, want 0", q, n)
		}
	}
}
