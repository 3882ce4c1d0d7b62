package sitetest

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"cloister/internal/config"
	"cloister/queue"
)

// Command runs one cloister command line (in process or as the built
// binary) and returns its standard output; the error tells what failed.
type Command func(args ...string) (string, error)

// CLISite is a site made and run through the cloister command line, as an
// operator makes one.
type CLISite struct {
	t testing.TB
	// Config is the path of the site's cloister.toml.
	Config string
	cmd    Command
}

// Init makes a site with `cloister init` in the state directory state
// (domain lists.test, mail to smtpAddr) through cmd.
func Init(t testing.TB, cmd Command, state, smtpAddr string) *CLISite {
	t.Helper()
	if out, err := cmd("init", "--state-dir", state, "--domain", "lists.test", "--smtp", smtpAddr); err != nil {
		t.Fatalf("cloister init %s: %v\n%s", state, err, out)
	}
	return &CLISite{t: t, Config: filepath.Join(state, "cloister.toml"), cmd: cmd}
}

// Run runs one command on the site (--config given) and returns its
// output, failing the test when it fails.
func (s *CLISite) Run(args ...string) string {
	s.t.Helper()
	out, err := s.RunErr(args...)
	if err != nil {
		s.t.Fatalf("cloister %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return out
}

// RunErr runs one command on the site (--config given) and returns its
// output and error.
func (s *CLISite) RunErr(args ...string) (string, error) {
	return s.cmd(append([]string{"--config", s.Config}, args...)...)
}

// LoadConfig reads the site's configuration.
func (s *CLISite) LoadConfig() *config.Config {
	s.t.Helper()
	cfg, err := config.Load(s.Config)
	if err != nil {
		s.t.Fatal(err)
	}
	return cfg
}

// Enqueue queues msg with meta in the site's queue name, as cmd/deliver
// queues a post in queue.In, and returns its entry name.
func (s *CLISite) Enqueue(name string, meta *queue.Meta, msg string) string {
	s.t.Helper()
	q, err := queue.Open(s.LoadConfig().QueueRoot(), name)
	if err != nil {
		s.t.Fatal(err)
	}
	entry, err := q.EnqueueBytes(meta, []byte(msg))
	if err != nil {
		s.t.Fatal(err)
	}
	return entry
}

// CreateTeam creates the list team@lists.test with its owner ann@subs.test
// and the member bob@subs.test.
func (s *CLISite) CreateTeam() {
	s.t.Helper()
	s.Run("list", "create", "team", "--owner", "ann@subs.test")
	s.Run("member", "add", "team", "bob@subs.test")
}

// Post queues msg in queue.In as a post from sender to list, as
// cmd/deliver does, and returns its entry name.
func (s *CLISite) Post(list, sender, msg string) string {
	s.t.Helper()
	return s.Enqueue(queue.In, PostMeta(list, sender), msg)
}

// PostMeta is the envelope of a post from sender to list received now, as
// cmd/deliver writes it.
func PostMeta(list, sender string) *queue.Meta {
	return &queue.Meta{List: list, Subaddress: queue.SubPost, Sender: sender, Recipient: list, Received: time.Now().UTC()}
}
