package runners

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"cloister/handlers"
	"cloister/queue"
)

// countingTXT answers _dmarc.subs.test with p=reject and counts the queries.
type countingTXT struct{ n atomic.Int32 }

func (c *countingTXT) LookupTXT(_ context.Context, name string) ([]string, error) {
	c.n.Add(1)
	if name == "_dmarc.subs.test" {
		return []string{"v=DMARC1; p=reject"}, nil
	}
	return nil, fmt.Errorf("unexpected query %q", name)
}

// TestPipelineDMARCCache: the pipeline runner keeps one DMARC cache between
// posts: a second post from the same domain is mitigated without a second
// query, and once the TTL has passed the next post asks DNS again.
func TestPipelineDMARCCache(t *testing.T) {
	s := newTestSite(t)
	setSetting(t, s, "dmarc_mitigation", "munge_from")
	dns := &countingTXT{}
	now := time.Now()
	cache := &handlers.DMARCCache{Resolver: dns, TTL: time.Hour, Now: func() time.Time { return now }}
	runners := []Runner{Incoming{}, Rules{}, Pipeline{Resolver: cache}, Outgoing{}}
	for i, c := range []struct {
		advance time.Duration
		queries int32
	}{
		{0, 1},
		{time.Minute, 1},   // cached
		{2 * time.Hour, 2}, // expired
	} {
		now = now.Add(c.advance)
		msg := strings.Replace(post, "<m1@subs.test>", fmt.Sprintf("<dmarc%d@subs.test>", i), 1)
		s.deliver(t, queue.SubPost, "bob@subs.test", msg)
		for _, r := range runners {
			l := &Loop{Site: s.Site, Runner: r, Slice: queue.All, Once: true}
			if err := l.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		box := s.mailbox(t, "cat@subs.test")
		if len(box) != i+1 || !strings.Contains(string(box[i]), "via") {
			t.Fatalf("post %d: cat has %d messages, the last not munged:\n%s", i, len(box), box[len(box)-1])
		}
		if n := dns.n.Load(); n != c.queries {
			t.Fatalf("post %d: %d DNS queries, want %d", i, n, c.queries)
		}
	}
}

// TestPipelineSystemDMARC: a Pipeline that names no resolver uses the one
// process-wide cache in front of the system resolver, so posts share it.
func TestPipelineSystemDMARC(t *testing.T) {
	a, b := Pipeline{}.resolver(), Pipeline{}.resolver()
	c, ok := a.(*handlers.DMARCCache)
	if !ok || a != b {
		t.Fatalf("default resolvers %T %p and %p: want one shared *handlers.DMARCCache", a, a, b)
	}
	if c.Resolver == nil {
		t.Fatal("the shared cache has no resolver behind it")
	}
}
