package site

import (
	"io"
	"log/slog"
	"testing"

	"cloister/internal/config"
	"cloister/internal/decision"
	"cloister/internal/stats"
)

// TestOpenCountsDecisions: the site's logger counts the decision lines of
// a runner (its "runner" attribute) for the heartbeat and the metrics, in
// the vocabulary of package decision.
func TestOpenCountsDecisions(t *testing.T) {
	dir := t.TempDir()
	cfg, err := config.Parse([]byte("state_dir = \"" + dir + "\"\ndomain = \"lists.test\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := Open(cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	log := s.Log.With("runner", "site-test-rules")
	log.Info("decision", "decision", decision.Hold, "list", "team@lists.test")
	log.Info("decision", "decision", decision.Hold, "list", "team@lists.test")
	got := stats.Snapshot("site-test-rules")
	if n := got[`decisions_total{decision="hold"}`]; n != 2 || len(got) != 1 {
		t.Fatalf("counters %v, want decisions_total{decision=\"hold\"} 2", got)
	}
}
