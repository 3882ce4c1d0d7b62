package main

import (
	"bufio"
	"fmt"
	"io"
	"log"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/emersion/go-smtp"

	"cloister/bench/benchsite"
)

// sink is a loopback SMTP server that counts the copies it accepts by
// recipient and the post's Message-ID (every copy keeps it, encrypted or not).
type sink struct {
	addr  string
	mu    sync.Mutex
	seen  map[string]map[int]int // recipient -> post -> copies
	total atomic.Int64
	clear atomic.Int64 // copies that are not multipart/encrypted
}

func startSink() *sink {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	check(err)
	s := &sink{addr: ln.Addr().String(), seen: map[string]map[int]int{}}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) { return &session{sink: s}, nil }))
	srv.Domain = "sink.faults.test"
	srv.MaxMessageBytes = 64 << 20
	srv.MaxRecipients = 10000
	srv.ErrorLog = log.New(io.Discard, "", 0) // a killed runner's connection resets
	go srv.Serve(ln)
	return s
}

type session struct {
	sink  *sink
	rcpts []string
}

func (s *session) Mail(string, *smtp.MailOptions) error { s.rcpts = nil; return nil }
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.rcpts = append(s.rcpts, strings.ToLower(to))
	return nil
}
func (s *session) Reset()        { s.rcpts = nil }
func (s *session) Logout() error { return nil }

// Data reads the header for the post's number and counts one copy per
// recipient once the whole message is in (the 250 follows).
func (s *session) Data(r io.Reader) error {
	br := bufio.NewReader(r)
	n := -1
	encrypted := false
	for {
		line, err := br.ReadString('\n')
		l := strings.TrimRight(line, "\r\n")
		lower := strings.ToLower(l)
		if l == "" {
			break
		} else if strings.HasPrefix(lower, "message-id:") {
			fmt.Sscanf(strings.TrimSpace(l[len("message-id:"):]), "<fault-%d@", &n)
		} else if strings.HasPrefix(lower, "content-type:") && strings.Contains(lower, "multipart/encrypted") {
			encrypted = true
		}
		if err != nil {
			break
		}
	}
	if _, err := io.Copy(io.Discard, br); err != nil {
		return err
	}
	if !encrypted {
		s.sink.clear.Add(int64(len(s.rcpts)))
	}
	s.sink.mu.Lock()
	defer s.sink.mu.Unlock()
	for _, rc := range s.rcpts {
		if s.sink.seen[rc] == nil {
			s.sink.seen[rc] = map[int]int{}
		}
		s.sink.seen[rc][n]++
		s.sink.total.Add(1)
	}
	return nil
}

// distinct counts the (recipient, post) pairs served at least once.
func (s *sink) distinct(posts int) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, byPost := range s.seen {
		for p := range byPost {
			if p >= 0 && p < posts {
				n++
			}
		}
	}
	return n
}

// tally returns the copies lost and duplicated, and how many posts every
// member got more than once (a hand-over done twice).
func (s *sink) tally(posts, members int) (lost, dups, twiceToAll int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	repeatedTo := make([]int, posts)
	for i := range members {
		byPost := s.seen[benchsite.Member(i)]
		for p := range posts {
			switch c := byPost[p]; {
			case c == 0:
				lost++
			case c > 1:
				dups += c - 1
				repeatedTo[p]++
			}
		}
	}
	for _, n := range repeatedTo {
		if n == members && members > 1 {
			twiceToAll++
		}
	}
	return lost, dups, twiceToAll
}
