package handlers

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestLookupDMARC(t *testing.T) {
	for _, c := range []struct {
		name    string
		domain  string
		dns     map[string][]string
		want    string
		wantErr bool
		queries int
	}{
		{"reject", "example.org", map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=reject"}}, "reject", false, 1},
		{"quarantine", "example.org", map[string][]string{"_dmarc.example.org": {"v=DMARC1;p=quarantine;pct=100"}}, "quarantine", false, 1},
		{"none", "example.org", map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=none"}}, "none", false, 1},
		{"no record", "example.org", nil, "", false, 1},
		{"other txt only", "example.org", map[string][]string{"_dmarc.example.org": {"v=spf1 -all"}}, "", false, 1},
		{"two records", "example.org", map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=reject", "v=DMARC1; p=none"}}, "", false, 1},
		{"bad p is none", "example.org", map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=bogus"}}, "none", false, 1},
		{"org fallback p", "mail.example.org", map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=reject"}}, "reject", false, 2},
		{"org fallback sp", "a.b.example.org", map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=reject; sp=none"}}, "none", false, 2},
		{"own record wins", "mail.example.org", map[string][]string{"_dmarc.mail.example.org": {"v=DMARC1; p=none"}, "_dmarc.example.org": {"v=DMARC1; p=reject"}}, "none", false, 1},
		{"servfail", "example.org", map[string][]string{"_dmarc.example.org": {"SERVFAIL"}}, "", true, 1},
		{"timeout", "example.org", map[string][]string{"_dmarc.example.org": {"TIMEOUT"}}, "", true, 1},
		{"org servfail", "mail.example.org", map[string][]string{"_dmarc.example.org": {"SERVFAIL"}}, "", true, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := &fakeResolver{answers: c.dns}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
			defer cancel()
			got, err := LookupDMARC(ctx, r, c.domain)
			if (err != nil) != c.wantErr || got != c.want {
				t.Fatalf("LookupDMARC = %q, %v; want %q, error %v", got, err, c.want, c.wantErr)
			}
			r.mu.Lock()
			defer r.mu.Unlock()
			if len(r.queries) != c.queries {
				t.Fatalf("queries = %v, want %d", r.queries, c.queries)
			}
		})
	}
}

// stuckResolver never answers and ignores its context.
type stuckResolver struct{ release chan struct{} }

func (s stuckResolver) LookupTXT(context.Context, string) ([]string, error) {
	<-s.release
	return nil, errors.New("released")
}

// TestDMARCTimeoutIgnoredContext: a resolver that ignores the context still
// cannot hold the handler past DMARCTimeout; the post is mitigated.
func TestDMARCTimeoutIgnoredContext(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	ctx := newTestContext(t, []byte(simplePost), caseConfig{Settings: []byte(`{"dmarc_mitigation": "munge_from"}`)})
	ctx.Resolver = stuckResolver{release}
	ctx.DMARCTimeout = 20 * time.Millisecond
	done := make(chan error, 1)
	go func() { done <- (DMARC{}).Process(ctx) }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the dmarc handler did not give up on a stuck resolver")
	}
	if from := ctx.Msg.Get("From"); !strings.Contains(from, "team@lists.example.test") {
		t.Fatalf("From = %q, want the munged list address after a timeout", from)
	}
}

func TestDMARCSkips(t *testing.T) {
	strict := map[string][]string{"_dmarc.lists.example.test": {"v=DMARC1; p=reject"}, "_dmarc.example.org": {"v=DMARC1; p=reject"}}
	for _, c := range []struct{ name, raw string }{
		{"list domain", "From: x@lists.example.test\nSubject: a\n\nb\n"},
		{"two from fields", "From: a@example.org\nFrom: b@example.org\nSubject: a\n\nb\n"},
		{"group from", "From: a@example.org, b@example.org\nSubject: a\n\nb\n"},
		{"no from", "Subject: a\n\nb\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := newTestContext(t, []byte(c.raw), caseConfig{Settings: []byte(`{"dmarc_mitigation": "munge_from"}`), DNS: strict})
			if err := (DMARC{}).Process(ctx); err != nil {
				t.Fatal(err)
			}
			if got := string(ctx.Msg.Bytes()); got != c.raw {
				t.Fatalf("changed:\n%s", got)
			}
		})
	}
}

// countingResolver counts queries and answers from a fake.
type countingResolver struct {
	inner DMARCResolver
	n     atomic.Int32
}

func (c *countingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	c.n.Add(1)
	return c.inner.LookupTXT(ctx, name)
}

func TestDMARCCache(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	fake := &fakeResolver{answers: map[string][]string{
		"_dmarc.a.example": {"v=DMARC1; p=reject"},
		"_dmarc.b.example": {"SERVFAIL"},
	}}
	inner := &countingResolver{inner: fake}
	c := &DMARCCache{Resolver: inner, TTL: time.Minute, Max: 2, Now: func() time.Time { return now }}
	ctx := context.Background()
	look := func(name string) ([]string, error) { return c.LookupTXT(ctx, name) }

	for i := 0; i < 3; i++ {
		if txt, err := look("_dmarc.a.example"); err != nil || len(txt) != 1 {
			t.Fatalf("lookup a: %v %v", txt, err)
		}
	}
	if n := inner.n.Load(); n != 1 {
		t.Fatalf("answers not cached: %d queries", n)
	}
	// "No such name" is cached too.
	for i := 0; i < 2; i++ {
		_, err := look("_dmarc.none.example")
		var de *net.DNSError
		if !errors.As(err, &de) || !de.IsNotFound {
			t.Fatalf("lookup none: %v", err)
		}
	}
	if n := inner.n.Load(); n != 2 {
		t.Fatalf("not-found not cached: %d queries", n)
	}
	// Temporary errors are not cached.
	look("_dmarc.b.example")
	look("_dmarc.b.example")
	if n := inner.n.Load(); n != 4 {
		t.Fatalf("temporary errors cached: %d queries", n)
	}
	// Expiry.
	now = now.Add(2 * time.Minute)
	look("_dmarc.a.example")
	if n := inner.n.Load(); n != 5 {
		t.Fatalf("expired entry served: %d queries", n)
	}
	// Bounded size.
	for _, n := range []string{"x1", "x2", "x3", "x4"} {
		look("_dmarc." + n)
	}
	c.mu.Lock()
	size := len(c.entries)
	c.mu.Unlock()
	if size > 2 {
		t.Fatalf("cache holds %d entries, Max is 2", size)
	}
}

func TestDMARCWrapKeepsPostIntact(t *testing.T) {
	raw := "From: Alice <alice@example.org>\nTo: team@lists.example.test\nSubject: s\nContent-Type: text/plain\n\nbody\n"
	ctx := newTestContext(t, []byte(raw), caseConfig{
		Settings: []byte(`{"dmarc_mitigation": "wrap_message"}`),
		DNS:      map[string][]string{"_dmarc.example.org": {"v=DMARC1; p=quarantine"}},
	})
	if err := (DMARC{}).Process(ctx); err != nil {
		t.Fatal(err)
	}
	if string(ctx.Msg.Body) != raw {
		t.Fatalf("wrapped body is not the original post:\n%s", ctx.Msg.Body)
	}
	if ctx.Msg.Get("Content-Type") != "message/rfc822" || ctx.Msg.Get("Reply-To") != "Alice <alice@example.org>" {
		t.Fatalf("wrapper header:\n%s", ctx.Msg.HeaderBytes())
	}
}
