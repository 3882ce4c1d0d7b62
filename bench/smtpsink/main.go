// Command smtpsink is a discarding SMTP server built on go-smtp's server,
// for bench/fanout-e2e.sh: it accepts every recipient and message (over
// DATA or BDAT, with PIPELINING), keeps nothing, and on SIGTERM or SIGINT
// prints one line of counts:
//
//	smtpsink: sessions 1 messages 1000 recipients 1000 bytes 71234567
//
// With -stamps it also prints, as each message is accepted, a line with the
// time (Unix nanoseconds) and its recipient count, for bench/latency.sh:
//
//	stamp 1764640000123456789 1
package main

import (
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/emersion/go-smtp"
)

type counts struct {
	sessions, messages, recipients, bytes atomic.Int64
	stamps                                bool
	mu                                    sync.Mutex // one stamp line at a time
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
	if s.c.stamps {
		s.c.mu.Lock()
		fmt.Printf("stamp %d %d\n", time.Now().UnixNano(), s.rcpts)
		s.c.mu.Unlock()
	}
	return nil
}

func main() {
	listen := flag.String("listen", "127.0.0.1:2525", "address to listen on")
	stamps := flag.Bool("stamps", false, "print a line with the time of each message accepted")
	cpuProfile := flag.String("cpuprofile", "", "write a CPU profile of the sink to this file (stopped on SIGTERM)")
	flag.Parse()
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			log.Fatalf("smtpsink: %v", err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatalf("smtpsink: %v", err)
		}
	}
	c := &counts{stamps: *stamps}
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
		pprof.StopCPUProfile()
		fmt.Printf("smtpsink: sessions %d messages %d recipients %d bytes %d\n",
			c.sessions.Load(), c.messages.Load(), c.recipients.Load(), c.bytes.Load())
		os.Exit(0)
	}()
	if err := srv.Serve(ln); err != nil {
		log.Fatalf("smtpsink: %v", err)
	}
}
