package queue

import (
	"bytes"
	"testing"
)

// BenchmarkHandover measures one hand-over of a 4 KB entry: with the ledger
// (Commit) and, for comparison, the unprotected write-then-remove sequence.
func BenchmarkHandover(b *testing.B) {
	body := bytes.Repeat([]byte("x"), 4096)
	for _, mode := range []string{"commit", "write-then-remove"} {
		b.Run(mode, func(b *testing.B) {
			root := b.TempDir()
			a, _ := Open(root, "a")
			c, _ := Open(root, "c")
			names := make([]string, b.N)
			for i := range names {
				names[i], _ = a.EnqueueBytes(&Meta{List: "l@x"}, body)
			}
			b.ResetTimer()
			for _, n := range names {
				e, err := a.Claim(n)
				if err != nil {
					b.Fatal(err)
				}
				if mode == "commit" {
					err = a.Commit(e, []Output{{Queue: c, Meta: e.Meta.Clone(), Body: bytes.NewReader(body)}})
				} else if err = c.Handover(e.Meta.Clone(), bytes.NewReader(body)); err == nil {
					err = a.Finish(e)
				}
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
