package runners

import (
	"context"
	"strings"
	"testing"

	"cloister/queue"
)

func TestDeferralReason(t *testing.T) {
	refused := "dial tcp 127.0.0.1:25: connect: connection refused"
	for _, tt := range []struct {
		name string
		temp map[string]string
		want string
	}{
		{"one", map[string]string{"a@x": refused}, refused},
		{"shared", map[string]string{"a@x": refused, "b@x": refused}, refused},
		{"folded reply", map[string]string{"a@x": "451 4.3.0\r\n  try later"}, "451 4.3.0 try later"},
		{"empty", map[string]string{"a@x": ""}, "no reason given"},
		{"mixed", map[string]string{"a@x": "452 full", "b@x": "451 later", "c@x": "451 later"},
			"451 later (2 recipients); 452 full (1 recipients)"},
	} {
		if got := DeferralReason(tt.temp); got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	long := map[string]string{"a@x": strings.Repeat("x", 5000)}
	if got := DeferralReason(long); len(got) > maxDeferralReason+3 {
		t.Errorf("reason of %d bytes not bounded", len(got))
	}
}

// TestFailedAttemptRecordsLastError: an attempt that fails with an unknown
// error puts the entry back with the error as its LastError and a due time
// in its name, which queue ls and queue show print.
func TestFailedAttemptRecordsLastError(t *testing.T) {
	s := newTestSite(t)
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	l := &Loop{Site: s.Site, Runner: failing{}, Slice: queue.All, Once: true}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	names, err := s.Queue(queue.In).Pending(queue.All)
	if err != nil || len(names) != 1 {
		t.Fatalf("in holds %v (%v)", names, err)
	}
	e, err := s.Queue(queue.In).Peek(names[0])
	if err != nil {
		t.Fatal(err)
	}
	if e.Meta.LastError != "store unavailable" || e.Meta.Attempts != 1 {
		t.Errorf("last error %q after %d attempts", e.Meta.LastError, e.Meta.Attempts)
	}
	if _, ok := queue.ReadyAt(names[0]); !ok {
		t.Errorf("entry %s has no due time", names[0])
	}
}
