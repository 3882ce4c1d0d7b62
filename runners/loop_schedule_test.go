package runners

import (
	"context"
	"testing"

	"cloister/queue"
)

// wrapped is a runner behind another type, as the CLI's loops run every
// runner (cmd/cloister's ticking embeds the Runner it ticks for).
type wrapped struct{ Runner }

// TestLoopSchedulesWrappedRunner: the loop calls the cover runner's
// Schedule when it starts even when the runner is wrapped, so a list with
// cover_traffic on gets its first timer from `cloister runner cover`. (The
// loop used to find Schedule by a type assertion, which the wrapper failed:
// no list got a timer from a runner process.)
func TestLoopSchedulesWrappedRunner(t *testing.T) {
	for _, tc := range []struct {
		name   string
		runner Runner
	}{
		{"cover", Cover{}},
		{"cover wrapped", wrapped{Cover{}}},
		{"cover wrapped twice", wrapped{wrapped{Cover{}}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newTestSite(t)
			s.setList(t, map[string]string{"cover_traffic": "yes"})
			l := &Loop{Site: s.Site, Runner: tc.runner, Slice: queue.All, Once: true}
			if err := l.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			if n := len(s.files(t, queue.Cover)); n != 1 {
				t.Fatalf("%d timers queued, want 1", n)
			}
		})
	}
}
