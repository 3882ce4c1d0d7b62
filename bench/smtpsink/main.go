// Command smtpsink is a discarding SMTP server built on go-smtp's server,
// for bench/fanout-e2e.sh: it accepts every recipient and message (over
// DATA or BDAT, with PIPELINING), keeps nothing, and on SIGTERM or SIGINT
// prints one line of counts:
//
//	smtpsink: sessions 1 messages 1000 recipients 1000 bytes 71234567
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

	"github.com/emersion/go-smtp"
)

type counts struct {
	sessions, messages, recipients, bytes atomic.Int64
}

type session struct {
	c     *counts
	rcpts int64
}

func (s *session) Mail(string, *smtp.MailOptions) error { s.rcpts = 0; return nil }
func (s *session) Rcpt(string, *smtp.RcptOptions) error { s.rcpts++; return nil }
func (s *session) Reset()                               { s.rcpts = 0 }
func (s *session) Logout() error                        { return nil }

func (s *session) Data(r io.Reader) error {
	n, err := io.Copy(io.Discard, r)
	if err != nil {
		return err
	}
	s.c.messages.Add(1)
	s.c.recipients.Add(s.rcpts)
	s.c.bytes.Add(n)
	return nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:2525", "address to listen on")
	flag.Parse()
	c := &counts{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) {
		c.sessions.Add(1)
		return &session{c: c}, nil
	}))
	srv.Domain = "sink.test"
	srv.MaxMessageBytes = 1 << 30
	srv.MaxRecipients = 100000
	srv.ErrorLog = log.New(io.Discard, "", 0) // smtp-source drops its connections without QUIT
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		log.Fatalf("smtpsink: %v", err)
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-sig
		fmt.Printf("smtpsink: sessions %d messages %d recipients %d bytes %d\n",
			c.sessions.Load(), c.messages.Load(), c.recipients.Load(), c.bytes.Load())
		os.Exit(0)
	}()
	if err := srv.Serve(ln); err != nil {
		log.Fatalf("smtpsink: %v", err)
	}
}
