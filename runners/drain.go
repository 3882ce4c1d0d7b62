package runners

import (
	"context"
	"time"

	"cloister/internal/site"
	"cloister/queue"
)

// Drain runs every runner with Once, over and over, until a full round finds
// no ready entry in any queue: a post goes all the way through. The first
// round runs every runner, so that each recovers the claims a killed runner
// left in its queue, as `cloister runner NAME` does at start. Entries
// deferred to a later time (retries) are left where they are.
func Drain(ctx context.Context, s *site.Site) error {
	for round := 0; ; round++ {
		busy := false
		for _, r := range All {
			q := s.Queue(r.Queue())
			ready, err := q.Ready(queue.All, time.Now())
			if err != nil {
				return err
			}
			if len(ready) == 0 && round > 0 {
				continue
			}
			busy = true
			l := &Loop{Site: s, Runner: r, Slice: queue.All, Once: true}
			if err := l.Run(ctx); err != nil {
				return err
			}
		}
		if !busy || ctx.Err() != nil {
			return ctx.Err()
		}
	}
}
