package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/smtpsink"
	"cloister/queue"
)

// TestRunnersOnceRecoversClaims: a runner was killed holding a post in each
// of two queues (their .bak claims are left); `cloister runners --once`
// recovers them before draining, as `cloister runner NAME` does, and both
// posts reach the member once.
func TestRunnersOnceRecoversClaims(t *testing.T) {
	dir := t.TempDir()
	sink, err := smtpsink.Start(filepath.Join(dir, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	state := filepath.Join(dir, "state")
	if out, err := cli(t, "init", "--state-dir", state, "--domain", "lists.test", "--smtp", sink.Addr); err != nil {
		t.Fatalf("init: %v\n%s", err, out)
	}
	cfgPath := filepath.Join(state, "cloister.toml")
	run := func(args ...string) {
		t.Helper()
		if out, err := cli(t, append([]string{"--config", cfgPath}, args...)...); err != nil {
			t.Fatalf("cloister %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	run("list", "create", "team", "--owner", "ann@subs.test")
	run("member", "add", "team", "bob@subs.test")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	for i, qn := range []string{queue.In, queue.Out} {
		q, err := queue.Open(cfg.QueueRoot(), qn)
		if err != nil {
			t.Fatal(err)
		}
		meta := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubPost, Sender: "ann@subs.test",
			Recipient: "team@lists.test", Received: time.Now().UTC()}
		if qn == queue.Out {
			meta.Kind, meta.Recipients = "post", []string{"bob@subs.test"}
		}
		post := "From: ann@subs.test\nTo: team@lists.test\nSubject: Claimed\nMessage-ID: <claimed" + qn + "@subs.test>\n\nCLAIMED-" + qn + "\n"
		name, err := q.EnqueueBytes(meta, []byte(post))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := q.Claim(name); err != nil {
			t.Fatalf("claim %d: %v", i, err)
		}
	}
	run("runners", "--once")
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
