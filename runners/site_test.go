package runners

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/seal"
	"cloister/internal/site"
	"cloister/internal/smtpsink"
	"cloister/keyring"
	"cloister/lists"
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
	dir := t.TempDir()
	if prepare != nil {
		prepare(filepath.Join(dir, "state"))
	}
	sink, err := smtpsink.Start(filepath.Join(dir, "mail"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	cfg, err := config.Parse([]byte("state_dir = \"" + filepath.Join(dir, "state") + "\"\ndomain = \"lists.test\"\nsmtp_addr = \"" + sink.Addr + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "queue-key")
	if err := seal.Generate(keyFile); err != nil {
		t.Fatal(err)
	}
	cfg.QueueKeyFile = keyFile
	logs := &bytes.Buffer{}
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), nil)))
	if err != nil {
		t.Fatal(err)
	}
	err = s.Lists.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList("team@lists.test", time.Now())
		if err != nil {
			return err
		}
		l.Description = "The team"
		if err := tx.CreateList(l); err != nil {
			return err
		}
		for _, m := range []*lists.Member{
			{Address: "ann@subs.test", Roles: []lists.Role{lists.RoleOwner, lists.RoleMember}},
			{Address: "bob@subs.test"},
			{Address: "cat@subs.test", Name: "Cat"},
		} {
			if err := tx.AddMember(l.Address, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
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
	return &testSite{Site: s, sink: sink, logs: logs}
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
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
