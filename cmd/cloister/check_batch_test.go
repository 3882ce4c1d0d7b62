package main

import (
	"strings"
	"testing"
)

// TestCheckWarnsHiddenBatches: check warns about a list that sends
// encrypted batches with hidden key IDs, and not once it shows them or
// stops batching.
func TestCheckWarnsHiddenBatches(t *testing.T) {
	cfg := newSite(t)
	withMTA(t, cfg)
	if out, err := cli(t, "--config", cfg, "list", "create", "team", "--owner", "ann@subs.test"); err != nil {
		t.Fatalf("list create: %v\n%s", err, out)
	}
	for _, tc := range []struct {
		settings [][2]string
		warn     bool
	}{
		{nil, false},
		{[][2]string{{"batch_size", "20"}}, true},
		{[][2]string{{"hidden_recipients", "no"}}, false},
		{[][2]string{{"hidden_recipients", "yes"}, {"batch_size", "1"}}, false},
	} {
		for _, kv := range tc.settings {
			if out, err := cli(t, "--config", cfg, "list", "set", "team", kv[0], kv[1]); err != nil {
				t.Fatalf("list set %v: %v\n%s", kv, err, out)
			}
		}
		out, err := cli(t, "--config", cfg, "check")
		if err != nil {
			t.Fatalf("check: %v\n%s", err, out)
		}
		if got := strings.Contains(out, "warning: team@") && strings.Contains(out, "hide key IDs"); got != tc.warn {
			t.Errorf("after %v: warning %v, want %v:\n%s", tc.settings, got, tc.warn, out)
		}
	}
}
