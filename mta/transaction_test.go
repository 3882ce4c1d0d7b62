package mta

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// script is how a scripted SMTP server answers; zero codes mean 250 (354
// for DATA).
type script struct {
	ext    []string       // extensions offered in EHLO
	mail   int            // reply to MAIL
	rcpt   map[string]int // reply to RCPT by address
	data   int            // reply to the DATA command
	final  int            // reply after the message (DATA) or to BDAT
	dropAt string         // close the connection on the command starting so
	// mailFrom and finalTo override mail and final: by the MAIL's sender,
	// by the transaction's first recipient.
	mailFrom map[string]int
	finalTo  map[string]int
	mu       sync.Mutex
	commands []string // commands received, in order
	messages []string // messages received
	// early counts the commands that were read with the message before
	// them, before its final reply was written (pipelined after the dot).
	early int
}

// serve answers one connection by the script.
func (sc *script) serve(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		r := bufio.NewReader(conn)
		reply := func(code int, def int) { fmt.Fprintf(conn, "%d scripted\r\n", cmp(code, def)) }
		fmt.Fprintf(conn, "220 scripted\r\n")
		inTxn, nrcpt, first := false, 0, ""
		// refuse is the reply to DATA or BDAT outside a transaction that has a recipient.
		refuse := func() int {
			if !inTxn {
				return 503
			}
			if nrcpt == 0 {
				return 554
			}
			return 0
		}
		// got records a message the server accepted.
		got := func(m string) {
			final := sc.final
			if c, ok := sc.finalTo[first]; ok {
				final = c
			}
			sc.mu.Lock()
			if cmp(final, 250)/100 == 2 {
				sc.messages = append(sc.messages, m)
			}
			if r.Buffered() > 0 {
				sc.early++
			}
			sc.mu.Unlock()
			reply(final, 250)
			inTxn, nrcpt = false, 0
		}
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			line = strings.TrimRight(line, "\r\n")
			sc.mu.Lock()
			sc.commands = append(sc.commands, line)
			sc.mu.Unlock()
			if sc.dropAt != "" && strings.HasPrefix(line, sc.dropAt) {
				return
			}
			verb, arg, _ := strings.Cut(line, " ")
			switch strings.ToUpper(verb) {
			case "EHLO":
				fmt.Fprintf(conn, "250-scripted\r\n")
				for _, e := range sc.ext {
					fmt.Fprintf(conn, "250-%s\r\n", e)
				}
				fmt.Fprintf(conn, "250 SIZE 100000000\r\n")
			case "MAIL":
				code := sc.mail
				from, _, _ := strings.Cut(strings.TrimPrefix(arg, "FROM:<"), ">")
				if c, ok := sc.mailFrom[from]; ok {
					code = c
				}
				reply(code, 250)
				inTxn, nrcpt, first = cmp(code, 250) == 250, 0, ""
			case "RCPT":
				a := strings.TrimSuffix(strings.TrimPrefix(arg, "TO:<"), ">")
				if !inTxn {
					reply(503, 0)
					continue
				}
				if first == "" {
					first = a
				}
				reply(sc.rcpt[a], 250)
				if cmp(sc.rcpt[a], 250) == 250 {
					nrcpt++
				}
			case "DATA":
				if code := refuse(); code != 0 {
					reply(code, 0)
					continue
				}
				reply(sc.data, 354)
				if cmp(sc.data, 354) != 354 {
					continue
				}
				var msg strings.Builder
				for {
					l, err := r.ReadString('\n')
					if err != nil {
						return
					}
					if l == ".\r\n" {
						break
					}
					msg.WriteString(l)
				}
				got(msg.String())
			case "BDAT":
				n, _ := strconv.Atoi(strings.Fields(arg)[0])
				b := make([]byte, n)
				if _, err := io.ReadFull(r, b); err != nil {
					return
				}
				if code := refuse(); code != 0 {
					reply(code, 0)
					continue
				}
				got(string(b))
			case "RSET":
				reply(0, 250)
				inTxn, nrcpt = false, 0
			case "QUIT":
				reply(0, 221)
				return
			default:
				reply(0, 500)
			}
		}
	}()
	return ln.Addr().String()
}

func cmp(code, def int) int {
	if code == 0 {
		return def
	}
	return code
}

// TestSendRefusals runs transactions against a scripted server that refuses
// at each step, with and without PIPELINING and CHUNKING, and checks each
// recipient's fate and whether the session is reported lost.
func TestSendRefusals(t *testing.T) {
	rcpts := []string{"ok@subs.test", "temp@subs.test", "gone@subs.test"}
	refusing := map[string]int{"temp@subs.test": 451, "gone@subs.test": 550}
	cases := []struct {
		name     string
		sc       *script
		accepted int
		temp     int
		perm     int
		lost     bool // an error is returned (session unusable)
		delivers bool // the server received the message
	}{
		{name: "accepted", sc: &script{rcpt: refusing}, accepted: 1, temp: 1, perm: 1, delivers: true},
		{name: "MAIL refused", sc: &script{mail: 550}, perm: 3},
		{name: "MAIL deferred", sc: &script{mail: 451}, temp: 3, lost: true},
		{name: "every RCPT refused", sc: &script{rcpt: map[string]int{"ok@subs.test": 550, "temp@subs.test": 550, "gone@subs.test": 550}}, perm: 3},
		{name: "DATA refused", sc: &script{rcpt: refusing, data: 554, final: 554}, temp: 1, perm: 2},
		{name: "message deferred", sc: &script{rcpt: refusing, final: 452}, temp: 2, perm: 1},
		{name: "message refused", sc: &script{rcpt: refusing, final: 554}, temp: 1, perm: 2},
		{name: "connection lost at RCPT", sc: &script{dropAt: "RCPT"}, temp: 3, lost: true},
	}
	for _, c := range cases {
		for _, ext := range [][]string{nil, {"PIPELINING"}, {"CHUNKING"}, {"PIPELINING", "CHUNKING", "8BITMIME"}} {
			t.Run(fmt.Sprintf("%s/%v", c.name, ext), func(t *testing.T) {
				sc := &script{ext: ext, mail: c.sc.mail, rcpt: c.sc.rcpt, data: c.sc.data, final: c.sc.final, dropAt: c.sc.dropAt}
				chunking := strings.Contains(fmt.Sprint(ext), "CHUNKING")
				if chunking && c.sc.data != 0 {
					sc.final = c.sc.data // BDAT has no separate DATA step
				}
				s, err := (&Client{Addr: sc.serve(t), Helo: "lists.test"}).Open(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				defer s.Close()
				msg := "Subject: x\n\n.dot\nend"
				res, err := s.Send("list-bounces@lists.test", rcpts, []byte(msg))
				if (err != nil) != c.lost {
					t.Fatalf("err = %v, want lost %v", err, c.lost)
				}
				if len(res.Accepted) != c.accepted || len(res.Temp) != c.temp || len(res.Perm) != c.perm {
					t.Fatalf("result %+v, want %d accepted, %d temp, %d perm", res, c.accepted, c.temp, c.perm)
				}
				if !c.lost { // the session goes on: a second transaction still works
					sc.mu.Lock()
					sc.mail, sc.rcpt, sc.data, sc.final = 0, nil, 0, 0
					sc.mu.Unlock()
					if res, err := s.Send("list-bounces@lists.test", []string{"next@subs.test"}, []byte(msg)); err != nil || len(res.Accepted) != 1 {
						t.Fatalf("next transaction: %+v %v", res, err)
					}
				}
				s.Close()
				sc.mu.Lock()
				defer sc.mu.Unlock()
				want := 0
				if c.delivers {
					want++
				}
				if !c.lost {
					want++
				}
				if len(sc.messages) != want {
					t.Fatalf("server received %d messages, want %d; commands %q", len(sc.messages), want, sc.commands)
				}
				wire := "Subject: x\r\n\r\n..dot\r\nend\r\n"
				if chunking {
					wire = "Subject: x\r\n\r\n.dot\r\nend"
				}
				for _, m := range sc.messages {
					if m != wire {
						t.Fatalf("message on the wire %q, want %q", m, wire)
					}
				}
			})
		}
	}
}

// TestSendBadAddresses checks that addresses with line breaks never reach
// the wire (they would inject commands).
func TestSendBadAddresses(t *testing.T) {
	sc := &script{}
	s, err := (&Client{Addr: sc.serve(t), Helo: "lists.test"}).Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.Send("a@lists.test", []string{"x@subs.test>\r\nRCPT TO:<evil@subs.test", "ok@subs.test"}, []byte("x\n"))
	if err != nil || len(res.Accepted) != 1 || len(res.Perm) != 1 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := s.Send("a@lists.test>\r\nRSET", []string{"ok@subs.test"}, []byte("x\n")); err == nil {
		t.Fatal("sender with a line break accepted")
	}
	sc.mu.Lock()
	defer sc.mu.Unlock()
	for _, c := range sc.commands {
		if strings.Contains(c, "evil") || c == "RSET" {
			t.Fatalf("injected command on the wire: %q", sc.commands)
		}
	}
}
