// Package smtpsink is an in-process SMTP server that stores what it receives
// in one Maildir per recipient. The demo and the runner tests use it in place
// of an MTA; the end-to-end suite uses a real Postfix instead.
package smtpsink

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-smtp"
)

// Sink is a running SMTP sink.
type Sink struct {
	Addr string // host:port it listens on
	Dir  string // one Maildir per recipient under it

	// Discard counts messages without storing them (for benchmarks).
	Discard bool
	// Delivered counts recipients accepted with a message.
	Delivered atomic.Int64

	// Refuse maps a recipient to an SMTP code (e.g. 450, 550) returned at RCPT.
	Refuse map[string]int

	srv *smtp.Server
	ln  *listener
	mu  sync.Mutex
	// writing is held (read-locked) by each Data while it stores a
	// message; Close takes it and sets closed, so no message is written
	// after Close.
	writing sync.RWMutex
	closed  bool
	n       atomic.Int64
	Message atomic.Int64 // transactions accepted
}

// Start listens on a free loopback port and stores mail under dir.
func Start(dir string) (*Sink, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("smtp sink listen: %w", err)
	}
	s := &Sink{Addr: ln.Addr().String(), Dir: dir, Refuse: map[string]int{}, ln: &listener{Listener: ln, conns: map[net.Conn]struct{}{}}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{sink: s}, nil }))
	s.srv.Domain = "sink.test"
	s.srv.MaxMessageBytes = 256 << 20
	s.srv.MaxRecipients = 10000
	s.srv.AllowInsecureAuth = true
	go s.srv.Serve(s.ln)
	return s, nil
}

// Close stops the sink: the listener is closed at once (a new connection
// is refused, even when the server had not started serving yet), open
// sessions are cut, and Close returns once no message is being stored (a
// test's TempDir can then be removed); nothing is stored after it. Closing
// twice is no error.
func (s *Sink) Close() error {
	err := s.ln.close()
	// The server's own Close closes its listeners and sessions again; it
	// says so when called twice, which is no news here.
	if serr := s.srv.Close(); serr != nil && !errors.Is(serr, smtp.ErrServerClosed) && !errors.Is(serr, net.ErrClosed) && err == nil {
		err = serr
	}
	s.writing.Lock()
	defer s.writing.Unlock()
	s.closed = true
	if err != nil {
		return fmt.Errorf("close smtp sink %s: %w", s.Addr, err)
	}
	return nil
}

// listener is the sink's own hold on its socket and on every connection it
// accepted: go-smtp registers both only once its goroutines run, so a
// Close right after Start, or right after an Accept, would miss them.
type listener struct {
	net.Listener
	mu     sync.Mutex
	closed bool
	conns  map[net.Conn]struct{}
}

// Accept hands the server a connection, or closes it and fails when the
// sink closed meanwhile.
func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		c.Close()
		return nil, net.ErrClosed
	}
	tc := &conn{Conn: c, l: l}
	l.conns[tc] = struct{}{}
	return tc, nil
}

// close closes the socket and every connection still open; only the
// first call does anything.
func (l *listener) close() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return nil
	}
	l.closed = true
	err := l.Listener.Close()
	for c := range l.conns {
		c.(*conn).Conn.Close()
	}
	l.conns = nil
	return err
}

// conn leaves the listener's set when the server closes it.
type conn struct {
	net.Conn
	l *listener
}

func (c *conn) Close() error {
	c.l.mu.Lock()
	delete(c.l.conns, c)
	c.l.mu.Unlock()
	return c.Conn.Close()
}

// Mailbox returns the messages a recipient received, oldest first.
func (s *Sink) Mailbox(rcpt string) ([][]byte, error) {
	dir := filepath.Join(s.Dir, strings.ToLower(rcpt), "new")
	ents, err := os.ReadDir(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range ents {
		names = append(names, e.Name())
	}
	sort.Strings(names)
	var out [][]byte
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(dir, n))
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, nil
}

type session struct {
	sink  *Sink
	from  string
	rcpts []string
}

func (s *session) AuthPlain(username, password string) error { return nil }

func (s *session) Mail(from string, opts *smtp.MailOptions) error {
	s.from = from
	s.rcpts = nil
	return nil
}

func (s *session) Rcpt(to string, opts *smtp.RcptOptions) error {
	s.sink.mu.Lock()
	code := s.sink.Refuse[strings.ToLower(to)]
	s.sink.mu.Unlock()
	if code != 0 {
		return &smtp.SMTPError{Code: code, Message: "refused by the test sink"}
	}
	s.rcpts = append(s.rcpts, to)
	return nil
}

func (s *session) Data(r io.Reader) error {
	s.sink.writing.RLock()
	defer s.sink.writing.RUnlock()
	if s.sink.closed {
		return &smtp.SMTPError{Code: 421, EnhancedCode: smtp.EnhancedCode{4, 3, 2}, Message: "the test sink is closed"}
	}
	if s.sink.Discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
		s.sink.Delivered.Add(int64(len(s.rcpts)))
		s.sink.Message.Add(1)
		return nil
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	// Store as an MTA's local delivery would: LF line endings, with a Return-Path.
	b = bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n"))
	b = append([]byte("Return-Path: <"+s.from+">\n"), b...)
	for _, rcpt := range s.rcpts {
		dir := filepath.Join(s.sink.Dir, strings.ToLower(rcpt))
		for _, sub := range []string{"tmp", "new", "cur"} {
			if err := os.MkdirAll(filepath.Join(dir, sub), 0o755); err != nil {
				return err
			}
		}
		name := fmt.Sprintf("%010d.sink", s.sink.n.Add(1))
		if err := os.WriteFile(filepath.Join(dir, "tmp", name), b, 0o644); err != nil {
			return err
		}
		if err := os.Rename(filepath.Join(dir, "tmp", name), filepath.Join(dir, "new", name)); err != nil {
			return err
		}
	}
	s.sink.Delivered.Add(int64(len(s.rcpts)))
	s.sink.Message.Add(1)
	return nil
}

func (s *session) Reset()        { s.from, s.rcpts = "", nil }
func (s *session) Logout() error { return nil }

// SetRefuse makes the sink refuse a recipient with the code (0 accepts again).
func (s *Sink) SetRefuse(rcpt string, code int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if code == 0 {
		delete(s.Refuse, strings.ToLower(rcpt))
		return
	}
	s.Refuse[strings.ToLower(rcpt)] = code
}
