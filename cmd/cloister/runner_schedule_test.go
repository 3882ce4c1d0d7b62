package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRunnerCoverSchedules: `cloister runner cover --once` gives a list
// with cover_traffic on its first timer. The CLI runs every runner behind
// a wrapper (ticking), and the loop used to find Schedule by a type
// assertion the wrapper failed, so no list ever got a timer from a runner
// process.
func TestRunnerCoverSchedules(t *testing.T) {
	state := filepath.Join(t.TempDir(), "state")
	cfg := cliSite(t, state, "127.0.0.1:1").Config
	for _, args := range [][]string{
		{"list", "create", "team"},
		{"list", "set", "team", "cover_traffic", "yes"},
		{"runner", "cover", "--once"},
	} {
		if out, err := cli(t, append([]string{"--config", cfg}, args...)...); err != nil {
			t.Fatalf("cloister %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	ents, err := os.ReadDir(filepath.Join(state, "queue", "cover"))
	if err != nil {
		t.Fatal(err)
	}
	var timers []string
	for _, e := range ents {
		if strings.HasSuffix(e.Name(), ".msg") {
			timers = append(timers, e.Name())
		}
	}
	if len(timers) != 1 {
		t.Fatalf("queue/cover holds %v, want one timer", timers)
	}
}
