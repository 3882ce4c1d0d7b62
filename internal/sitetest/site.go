package sitetest

import (
	"bytes"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/internal/seal"
	"cloister/internal/site"
	"cloister/internal/smtpsink"
	"cloister/lists"
)

// Team is the address of the list every harness site has.
const Team = "team@lists.test"

// Site is a real site in a temporary directory whose MTA is an in-process
// SMTP sink.
type Site struct {
	*site.Site
	// Dir is the test's directory: the state directory is Dir/state, the
	// sink's mailboxes Dir/mail.
	Dir  string
	Sink *smtpsink.Sink
	// Logs holds everything the site logged (shown with go test -v).
	Logs *bytes.Buffer
}

// ConfigFunc returns the configuration of a site for its directory and the
// address of its SMTP sink.
type ConfigFunc func(t testing.TB, dir, smtpAddr string) *config.Config

// New opens a site in a temporary directory with the list team@lists.test
// (AddTeam). config gives its configuration; nil is Config.
func New(t testing.TB, config ConfigFunc) *Site {
	t.Helper()
	if config == nil {
		config = Config
	}
	dir := t.TempDir()
	sink := StartSink(t, filepath.Join(dir, "mail"))
	cfg := config(t, dir, sink.Addr)
	logs := &bytes.Buffer{}
	s, err := site.Open(cfg, slog.New(slog.NewTextHandler(io.MultiWriter(logs, LogWriter(t)), nil)))
	if err != nil {
		t.Fatal(err)
	}
	AddTeam(t, s.Lists)
	return &Site{Site: s, Dir: dir, Sink: sink, Logs: logs}
}

// Config is the plain configuration of a site: its state in dir/state, the
// domain lists.test, mail to smtpAddr and a queue key made in dir.
func Config(t testing.TB, dir, smtpAddr string) *config.Config {
	t.Helper()
	cfg, err := config.Parse([]byte("state_dir = \"" + filepath.Join(dir, "state") + "\"\ndomain = \"lists.test\"\nsmtp_addr = \"" + smtpAddr + "\"\n"))
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "queue-key")
	if err := seal.Generate(keyFile); err != nil {
		t.Fatal(err)
	}
	cfg.QueueKeyFile = keyFile
	return cfg
}

// StartSink starts an SMTP sink keeping its mailboxes in dir, closed when
// the test ends.
func StartSink(t testing.TB, dir string) *smtpsink.Sink {
	t.Helper()
	sink, err := smtpsink.Start(dir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sink.Close() })
	return sink
}

// AddTeam creates the list team@lists.test ("The team") with its owner
// ann@subs.test (also a member) and the members bob@subs.test and
// cat@subs.test (named Cat).
func AddTeam(t testing.TB, store *lists.Store) {
	t.Helper()
	err := store.Update(func(tx *lists.Tx) error {
		l, err := lists.NewList(Team, time.Now())
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
}

// Mailbox returns the mail the sink holds for rcpt.
func (s *Site) Mailbox(t testing.TB, rcpt string) [][]byte {
	t.Helper()
	m, err := s.Sink.Mailbox(rcpt)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// LogWriter passes what is written to it to the test's log when the tests
// run verbose (go test -v), and drops it otherwise.
func LogWriter(t testing.TB) io.Writer { return testWriter{t} }

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	if testing.Verbose() {
		w.t.Log(strings.TrimRight(string(p), "\n"))
	}
	return len(p), nil
}
