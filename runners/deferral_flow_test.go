package runners

import (
	"net"
	"strings"
	"testing"

	"cloister/queue"
)

// TestDeferredDeliveryReason: with the MTA down (nothing listens on
// smtp_addr) a post's delivery is deferred; the entry in retry carries the
// connection error as its LastError and the log has a warn line with it.
func TestDeferredDeliveryReason(t *testing.T) {
	s := newTestSite(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.Config.SMTPAddr = ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	s.deliver(t, queue.SubPost, "bob@subs.test", post)
	s.drain(t)
	names, err := s.Queue(queue.Retry).Pending(queue.All)
	if err != nil || len(names) != 1 {
		t.Fatalf("retry holds %v (%v)", names, err)
	}
	e, err := s.Queue(queue.Retry).Peek(names[0])
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(e.Meta.LastError, "connection refused") {
		t.Errorf("last error %q does not say connection refused", e.Meta.LastError)
	}
	var warned bool
	for _, l := range strings.Split(s.logs.String(), "\n") {
		if strings.Contains(l, "level=WARN") && strings.Contains(l, "delivery deferred") && strings.Contains(l, "connection refused") {
			warned = true
		}
	}
	if !warned {
		t.Errorf("no warn line with the reason:\n%s", s.logs)
	}
}
