package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"

	"cloister/internal/sitetest"
	"cloister/queue"
)

// TestRunnersOnceRecoversClaims: a runner was killed holding a post in each
// of two queues (their .bak claims are left); `cloister runners --once`
// recovers them before draining, as `cloister runner NAME` does, and both
// posts reach the member once.
func TestRunnersOnceRecoversClaims(t *testing.T) {
	dir := t.TempDir()
	sink := sitetest.StartSink(t, filepath.Join(dir, "mail"))
	s := cliSite(t, filepath.Join(dir, "state"), sink.Addr)
	s.CreateTeam()
	cfg := s.LoadConfig()
	for i, qn := range []string{queue.In, queue.Out} {
		meta := sitetest.PostMeta("team@lists.test", "ann@subs.test")
		if qn == queue.Out {
			meta.Kind, meta.Recipients = "post", []string{"bob@subs.test"}
		}
		post := "From: ann@subs.test\nTo: team@lists.test\nSubject: Claimed\nMessage-ID: <claimed" + qn + "@subs.test>\n\nCLAIMED-" + qn + "\n"
		name := s.Enqueue(qn, meta, post)
		q, err := queue.Open(cfg.QueueRoot(), qn)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.Claim(name); err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
	}
	s.Run("runners", "--once")
	box, err := sink.Mailbox("bob@subs.test")
	if err != nil {
		t.Fatal(err)
	}
	for _, marker := range []string{"CLAIMED-in", "CLAIMED-out"} {
		n := 0
		for _, m := range box {
			if bytes.Contains(m, []byte(marker)) {
				n++
			}
		}
		if n != 1 {
			t.Errorf("bob got the post claimed in %s %d times", strings.TrimPrefix(marker, "CLAIMED-"), n)
		}
	}
	for _, qn := range queue.Names {
		q, _ := queue.Open(cfg.QueueRoot(), qn)
		if c, _ := q.Claimed(queue.All); len(c) != 0 {
			t.Errorf("queue %s still holds claims %v", qn, c)
		}
	}
}
