package smtpsink

import (
	"errors"
	"net"
	"net/smtp"
	"net/textproto"
	"testing"
	"time"
)

// TestCloseRightAfterStartRefusesConnections: a sink closed right after
// Start refuses new connections, so a test that stops its MTA sees it down.
// The server's Serve goroutine may not have taken the listener yet when
// Close runs; Close must close it all the same. The race is one of
// scheduling, so the test tries many times.
func TestCloseRightAfterStartRefusesConnections(t *testing.T) {
	for i := range 200 {
		s, err := Start(t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Close(); err != nil {
			t.Fatalf("close: %v", err)
		}
		c, err := net.DialTimeout("tcp", s.Addr, 2*time.Second)
		if err == nil {
			c.Close()
			t.Fatalf("try %d: connected to %s after Close", i, s.Addr)
		}
	}
}

// TestCloseTwice: the tests close a sink themselves and again in cleanup.
func TestCloseTwice(t *testing.T) {
	s, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("first close: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("second close: %v", err)
	}
}

// TestCloseDropsOpenSession: a session open when the sink closes cannot
// store a message afterwards.
func TestCloseDropsOpenSession(t *testing.T) {
	s, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("ann@subs.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@subs.test"); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	w, err := c.Data()
	if err == nil {
		_, _ = w.Write([]byte("Subject: late\r\n\r\nbody\r\n"))
		err = w.Close()
	}
	if err == nil {
		t.Fatal("a message was accepted after Close")
	}
	box, err := s.Mailbox("bob@subs.test")
	if err != nil {
		t.Fatal(err)
	}
	if len(box) != 0 {
		t.Fatalf("stored after Close: %d messages", len(box))
	}
}

// TestStoreAndRefuse: a message is stored once per recipient, LF-only with
// a Return-Path; a refused recipient gets its code at RCPT.
func TestStoreAndRefuse(t *testing.T) {
	s, err := Start(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetRefuse("Cat@subs.test", 550)
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Mail("ann@subs.test"); err != nil {
		t.Fatal(err)
	}
	if err := c.Rcpt("bob@subs.test"); err != nil {
		t.Fatal(err)
	}
	err = c.Rcpt("cat@subs.test")
	var perr *textproto.Error
	if !errors.As(err, &perr) || perr.Code != 550 {
		t.Fatalf("refused rcpt: %v, want a 550", err)
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte("Subject: hi\r\n\r\nbody\r\n")); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	box, err := s.Mailbox("BOB@subs.test")
	if err != nil {
		t.Fatal(err)
	}
	want := "Return-Path: <ann@subs.test>\nSubject: hi\n\nbody\n"
	if len(box) != 1 || string(box[0]) != want {
		t.Fatalf("bob's mailbox = %q, want one %q", box, want)
	}
	if box, _ := s.Mailbox("cat@subs.test"); len(box) != 0 {
		t.Fatalf("refused recipient got %d messages", len(box))
	}
	if got := s.Delivered.Load(); got != 1 {
		t.Fatalf("Delivered = %d, want 1", got)
	}
}
