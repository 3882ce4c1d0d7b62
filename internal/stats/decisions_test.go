package stats

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"cloister/internal/decision"
)

// TestCountDecisions: a decision line adds one to its runner's counter of
// that decision, the runner named by the logger's attributes or the line's;
// free text, other messages and grouped lines are not counted; every line
// still reaches the next handler.
func TestCountDecisions(t *testing.T) {
	var out bytes.Buffer
	log := slog.New(CountDecisions(slog.NewTextHandler(&out, nil)))
	rules := log.With("runner", "count-rules")
	rules.Info("decision", "decision", decision.Hold, "list", "team@lists.test")
	rules.Info("decision", "decision", decision.Hold)
	rules.Info("decision", "decision", decision.Accept)
	rules.Info("decision", "decision", "hold")         // free text: not of the vocabulary
	rules.Info("processed", "decision", decision.Hold) // not a decision line
	rules.WithGroup("g").Info("decision", "decision", decision.Hold)
	log.Info("decision", "runner", "count-bounce", "decision", decision.BounceScored)
	for _, tc := range []struct {
		runner string
		want   map[string]int64
	}{
		{"count-rules", map[string]int64{`decisions_total{decision="hold"}`: 2, `decisions_total{decision="accept"}`: 1}},
		{"count-bounce", map[string]int64{`decisions_total{decision="bounce scored"}`: 1}},
	} {
		got := Snapshot(tc.runner)
		if len(got) != len(tc.want) {
			t.Errorf("%s: counters %v, want %v", tc.runner, got, tc.want)
		}
		for k, n := range tc.want {
			if got[k] != n {
				t.Errorf("%s: %s = %d, want %d", tc.runner, k, got[k], n)
			}
		}
	}
	if n := strings.Count(out.String(), "\n"); n != 7 {
		t.Errorf("the next handler got %d lines, want 7:\n%s", n, out.String())
	}
}
