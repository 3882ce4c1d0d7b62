package runners

import (
	"testing"

	"cloister/lists"
	"cloister/queue"
)

func bounceScore(t *testing.T, s *testSite, addr string) (int, string) {
	t.Helper()
	var m *lists.Member
	err := s.Lists.View(func(tx *lists.Tx) error {
		var err error
		m, err = tx.Member("team@lists.test", addr)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if m.Bounces == nil {
		return 0, ""
	}
	return m.Bounces.Score, m.Bounces.Status
}

// TestRefusalsScoreLikeBounces: the MTA refuses one member with 550 at
// RCPT and another with 552 5.2.2 at the end of DATA. Each refusal counts
// towards the member's bounce score as a delivery report would, once (a
// second post the same day, and a restart of the fan-out, add nothing),
// and the others are delivered.
func TestRefusalsScoreLikeBounces(t *testing.T) {
	s := newTestSite(t)
	mta := startStallMTA(t)
	mta.refuseData = map[string]bool{"cat@subs.test": true}
	s.Config.SMTPAddr = mta.addr
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	if n, st := bounceScore(t, s, "cat@subs.test"); n != 1 || st != "5.2.2" {
		t.Fatalf("cat refused at end of DATA: score %d status %q, want 1 5.2.2", n, st)
	}
	if n, _ := bounceScore(t, s, "ann@subs.test"); n != 0 || mta.count("ann@subs.test") != 1 {
		t.Fatalf("ann: score %d, %d copies", n, mta.count("ann@subs.test"))
	}

	// RCPT refusals, with the test sink.
	s2 := newTestSite(t)
	s2.sink.SetRefuse("bob@subs.test", 550)
	s2.deliver(t, queue.SubPost, "ann@subs.test", post)
	s2.drain(t)
	// The sink answers "550 5.0.0 ...": the enhanced code is the status.
	if n, st := bounceScore(t, s2, "bob@subs.test"); n != 1 || st != "5.0.0" {
		t.Fatalf("bob refused at RCPT: score %d status %q, want 1 5.0.0", n, st)
	}
	s2.deliver(t, queue.SubPost, "ann@subs.test", post)
	s2.drain(t)
	if n, _ := bounceScore(t, s2, "bob@subs.test"); n != 1 {
		t.Fatalf("a second refusal the same day: score %d, want 1", n)
	}
	if r := s2.badReasons(t); len(r) != 0 {
		t.Fatalf("bad = %q", r)
	}
}
