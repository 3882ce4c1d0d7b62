package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/queue"
)

// TestQueueShowsReasons: queue ls and queue show print a deferred entry's
// last error and next attempt, and a bad entry's reason; show --json stays
// plain JSON with the last error in it.
func TestQueueShowsReasons(t *testing.T) {
	cfgPath := newSite(t)
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	refused := "connect to MTA 127.0.0.1:25: dial tcp 127.0.0.1:25: connect: connection refused"
	next := time.Date(2099, 1, 2, 3, 4, 5, 0, time.UTC)
	retry, err := queue.Open(cfg.QueueRoot(), queue.Retry)
	if err != nil {
		t.Fatal(err)
	}
	name, err := retry.Enqueue(&queue.Meta{List: "team@lists.test", Kind: "post", Recipients: []string{"bob@subs.test"},
		NextTry: next, LastError: refused, Received: time.Now().UTC()}, strings.NewReader("Subject: x\n\nx\n"), 0)
	if err != nil {
		t.Fatal(err)
	}
	ls, err := cli(t, "--config", cfgPath, "queue", "ls", "retry")
	if err != nil {
		t.Fatalf("%v\n%s", err, ls)
	}
	if !strings.Contains(ls, "NEXT ATTEMPT") || !strings.Contains(ls, "2099-01-02T03:04:05Z") || !strings.Contains(ls, "connection refused") {
		t.Errorf("queue ls retry lacks the next attempt or the reason:\n%s", ls)
	}
	show, err := cli(t, "--config", cfgPath, "queue", "show", "retry", name)
	if err != nil {
		t.Fatalf("%v\n%s", err, show)
	}
	if !strings.Contains(show, "next attempt: 2099-01-02T03:04:05Z\n") || !strings.Contains(show, "last error: "+refused+"\n") {
		t.Errorf("queue show lacks the next attempt or the last error:\n%s", show)
	}
	js, err := cli(t, "--config", cfgPath, "queue", "show", "--json", "retry", name)
	if err != nil {
		t.Fatal(err)
	}
	var m queue.Meta
	if err := json.Unmarshal([]byte(js), &m); err != nil || m.LastError != refused {
		t.Errorf("show --json: %v, last error %q:\n%s", err, m.LastError, js)
	}

	bad, _ := queue.Open(cfg.QueueRoot(), queue.Bad)
	if _, err := bad.Enqueue(&queue.Meta{List: "team@lists.test", Reason: "failed 5 times: store unavailable", Received: time.Now().UTC()}, strings.NewReader("x"), 0); err != nil {
		t.Fatal(err)
	}
	ls, _ = cli(t, "--config", cfgPath, "queue", "ls", "bad")
	if !strings.Contains(ls, "none (queue requeue)") || !strings.Contains(ls, "failed 5 times: store unavailable") {
		t.Errorf("queue ls bad:\n%s", ls)
	}
}
