package runners

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"cloister/lists"
	"cloister/queue"
)

// BenchmarkPlaintextFanout10k: one plaintext post to a 10,000-member list
// through the pipeline and outgoing runners into an in-process SMTP sink, at
// batch_size 1 (one transaction per member) and 100.
func BenchmarkPlaintextFanout10k(b *testing.B) {
	for _, batch := range []int{1, 100} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			s := newTestSite(b)
			s.sink.Discard = true
			err := s.Lists.Update(func(tx *lists.Tx) error {
				l, err := tx.List("team@lists.test")
				if err != nil {
					return err
				}
				l.Settings.BatchSize = batch
				if err := tx.PutList(l); err != nil {
					return err
				}
				for i := 0; i < 10000; i++ {
					if err := tx.AddMember(l.Address, &lists.Member{Address: fmt.Sprintf("member%05d@subs.test", i)}); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			body := "From: bob@subs.test\nSubject: bench\n\n" + strings.Repeat("a line of a plaintext post\n", 400)
			b.ResetTimer()
			start := time.Now()
			for i := 0; i < b.N; i++ {
				m := &queue.Meta{List: "team@lists.test", Subaddress: queue.SubPost, Sender: "bob@subs.test", From: "bob@subs.test", Received: time.Now().UTC()}
				if _, err := s.Queue(queue.Pipeline).Enqueue(m, strings.NewReader(body), 0); err != nil {
					b.Fatal(err)
				}
				for _, r := range []Runner{Pipeline{}, Outgoing{}} {
					l := &Loop{Site: s.Site, Runner: r, Slice: queue.All, Once: true}
					if err := l.Run(context.Background()); err != nil {
						b.Fatal(err)
					}
				}
			}
			el := time.Since(start)
			if got := s.sink.Delivered.Load(); got != int64(b.N)*10003 {
				b.Fatalf("sink got %d recipients, want %d", got, int64(b.N)*10003)
			}
			b.ReportMetric(float64(b.N)*10003/el.Seconds(), "recipients/s")
		})
	}
}
