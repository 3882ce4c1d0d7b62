package runners

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/site"
	"cloister/internal/sitetest"
	"cloister/internal/smtpsink"
	"cloister/keyring"
	"cloister/queue"
)

// testSite is a site in a temp dir whose MTA is an in-process SMTP sink, with
// the list team@lists.test: owner ann, members bob and cat.
type testSite struct {
	*site.Site
	sink *smtpsink.Sink
	logs *bytes.Buffer
	mem  *memKeys // the in-memory Keys, when a helper gave the site some
}

func newTestSite(t testing.TB) *testSite {
	t.Helper()
	return newTestSiteWith(t, nil)
}

// newTestSiteWith is newTestSite calling prepare with the state directory
// (not yet created) before the site is opened there, e.g. to mount a small
// file system on it.
func newTestSiteWith(t testing.TB, prepare func(stateDir string)) *testSite {
	t.Helper()
	st := sitetest.New(t, func(t testing.TB, dir, smtpAddr string) *config.Config {
		if prepare != nil {
			prepare(filepath.Join(dir, "state"))
		}
		return sitetest.Config(t, dir, smtpAddr)
	})
	s := st.Site
	// No test reaches the network by accident: key fetches fail unless a
	// test sets its own FetchKey (resend_fetch_test.go).
	s.FetchKey = func(context.Context, string) (*keyring.Fetched, error) {
		return nil, fmt.Errorf("%w: the network is off in tests", keyring.ErrFetchNotFound)
	}
	before := PanicsRecovered.Load()
	t.Cleanup(func() {
		if n := PanicsRecovered.Load() - before; n != 0 && !t.Failed() && !strings.Contains(t.Name(), "Poison") {
			t.Errorf("%d panics recovered", n)
		}
	})
	return &testSite{Site: s, sink: st.Sink, logs: st.Logs}
}

// deliver queues a message as cmd/deliver does.
func (s *testSite) deliver(t *testing.T, rcptSub, sender string, msg string) string {
	t.Helper()
	list, sub := "team@lists.test", rcptSub
	m := &queue.Meta{List: list, Subaddress: sub, Sender: sender, Recipient: list, Received: time.Now().UTC()}
	name, err := s.Queue(queue.In).Enqueue(m, strings.NewReader(msg), 0)
	if err != nil {
		t.Fatal(err)
	}
	return name
}

// judged runs the incoming runner once over the queued posts and returns
// the meta of the one post it passed to the rules queue (how the list
// judged it), failing the test unless exactly one is there.
func (s *testSite) judged(t *testing.T) *queue.Meta {
	t.Helper()
	l := &Loop{Site: s.Site, Runner: Incoming{}, Slice: queue.All, Once: true}
	if err := l.Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	names, _ := s.Queue(queue.Rules).Pending(queue.All)
	if len(names) != 1 {
		t.Fatalf("rules holds %v; bad: %q", names, s.badReasons(t))
	}
	e, err := s.Queue(queue.Rules).Peek(names[0])
	if err != nil {
		t.Fatal(err)
	}
	return e.Meta
}

// noBad fails the test if any entry went to the bad queue.
func (s *testSite) noBad(t *testing.T) {
	t.Helper()
	if r := s.badReasons(t); len(r) != 0 {
		t.Fatalf("bad: %q", r)
	}
}

func (s *testSite) drain(t *testing.T) {
	t.Helper()
	if err := Drain(context.Background(), s.Site); err != nil {
		t.Fatal(err)
	}
}

func (s *testSite) mailbox(t *testing.T, rcpt string) [][]byte {
	t.Helper()
	m, err := s.sink.Mailbox(rcpt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// files returns the entry files left in a queue.
func (s *testSite) files(t *testing.T, q string) []string {
	t.Helper()
	ents, err := os.ReadDir(s.Queue(q).Dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func (s *testSite) badReasons(t *testing.T) []string {
	t.Helper()
	names, err := s.Queue(queue.Bad).Pending(queue.All)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		e, err := s.Queue(queue.Bad).Peek(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, e.Meta.Reason)
	}
	return out
}

// useKeyring gives the site a real keyring in its state directory (in place
// of the in-memory fakes) and returns it.
func (s *testSite) useKeyring(t testing.TB) *keyring.Keyring {
	t.Helper()
	k, err := keyring.Open(filepath.Join(s.Config.StateDir, "keyring.db"), []byte("test passphrase"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { k.Close() })
	s.SetKeyring(k)
	return k
}
