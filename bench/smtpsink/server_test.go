package main

import (
	"bytes"
	"io"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"cloister/mta"
)

// talk runs a session on one end of a pipe, writes chunks (each arrives in
// reads of its own, so that a case can split a terminator anywhere) and
// returns the server's replies. Unless the last chunk ends with QUIT, the
// client then goes.
func talk(t *testing.T, c *counts, chunks ...string) string {
	t.Helper()
	cli, srv := net.Pipe()
	done := make(chan struct{})
	go func() { serve(c, srv); close(done) }()
	var replies bytes.Buffer
	read := make(chan struct{})
	go func() { io.Copy(&replies, cli); close(read) }()
	for _, ch := range chunks {
		if _, err := cli.Write([]byte(ch)); err != nil {
			break // the server closed the session
		}
	}
	if !strings.HasSuffix(chunks[len(chunks)-1], "QUIT\r\n") {
		cli.Close() // the client goes without QUIT
	}
	select {
	case <-done:
	case <-time.After(time.Minute): // a hang guard, not a timing: the sink lost the stream
		t.Errorf("the session did not end after the client's QUIT (the sink still reads a message?)")
		cli.Close()
		<-done
	}
	cli.Close()
	<-read
	return replies.String()
}

func TestSinkSessions(t *testing.T) {
	const head = "EHLO c\r\nMAIL FROM:<l@x>\r\nRCPT TO:<a@y>\r\n"
	for _, tc := range []struct {
		name      string
		chunks    []string
		messages  int64
		bytes     int64
		bad       int64
		wantReply string
	}{
		{"data", []string{head, "DATA\r\n", "line 1\r\nline 2\r\n.\r\n", "QUIT\r\n"}, 1, 16, 0, "250 2.0.0 taken"},
		{"empty data", []string{head, "DATA\r\n", ".\r\n", "QUIT\r\n"}, 1, 0, 0, "250 2.0.0 taken"},
		{"stuffed dot lines", []string{head, "DATA\r\n", "..\r\n..x\r\n.\r\n", "QUIT\r\n"}, 1, 9, 0, "250 2.0.0 taken"},
		{"terminator split after CR", []string{head, "DATA\r\n", "abc\r", "\n.\r\n", "QUIT\r\n"}, 1, 5, 0, "taken"},
		{"terminator split after LF", []string{head, "DATA\r\n", "abc\r\n", ".\r\n", "QUIT\r\n"}, 1, 5, 0, "taken"},
		{"terminator split after dot", []string{head, "DATA\r\n", "abc\r\n.", "\r\n", "QUIT\r\n"}, 1, 5, 0, "taken"},
		{"terminator split after its CR", []string{head, "DATA\r\n", "abc\r\n.\r", "\n", "QUIT\r\n"}, 1, 5, 0, "taken"},
		{"CR after a split CR", []string{head, "DATA\r\n", "abc\r", "\r\n.\r\n", "QUIT\r\n"}, 1, 6, 0, "taken"},
		{"CR after a split dot line", []string{head, "DATA\r\n", "abc\r\n.", "\r\r\n.\r\n", "QUIT\r\n"}, 1, 9, 0, "taken"},
		{"CR after a split dot and CR", []string{head, "DATA\r\n", "abc\r\n.\r", "\r\n.\r\n", "QUIT\r\n"}, 1, 9, 0, "taken"},
		{"terminator byte by byte", []string{head, "DATA\r\n", "a", "\r", "\n", ".", "\r", "\n", "QUIT\r\n"}, 1, 3, 0, "taken"},
		{"dot line that is not the end", []string{head, "DATA\r\n", "a\r\n.\rb\r\n.x\r\n", ".\r\n", "QUIT\r\n"}, 1, 12, 0, "taken"},
		{"CR runs before the end", []string{head, "DATA\r\n", "a\r\r\n\r\r\n.\r\n", "QUIT\r\n"}, 1, 7, 0, "taken"},
		{"data and next transaction in one read", []string{head, "DATA\r\n", "x\r\n.\r\nMAIL FROM:<l@x>\r\nRCPT TO:<b@y>\r\nDATA\r\n", "y\r\n.\r\nQUIT\r\n"}, 2, 6, 0, "taken"},
		{"bdat pipelined in one write", []string{head + "BDAT 5 LAST\r\nabc\r\nQUIT\r\n"}, 1, 5, 0, "250 2.0.0 taken"},
		{"bdat in chunks", []string{head, "BDAT 3\r\nabc", "BDAT 2 LAST\r\n\r\n", "QUIT\r\n"}, 1, 5, 0, "250 2.0.0 chunk taken"},
		{"bdat empty last chunk", []string{head, "BDAT 4\r\nab\r\n", "BDAT 0 LAST\r\n", "QUIT\r\n"}, 1, 4, 0, "taken"},
		{"bdat not ending in CRLF", []string{head, "BDAT 3 LAST\r\nabc", "QUIT\r\n"}, 1, 3, 0, "250 2.0.0 taken"},
		{"client gone mid-chunk", []string{head, "BDAT 30 LAST\r\nabc"}, 0, 0, 0, "220"},
		{"bdat without recipients", []string{"EHLO c\r\nMAIL FROM:<l@x>\r\nBDAT 2 LAST\r\n\r\n", "QUIT\r\n"}, 0, 0, 1, "503 5.5.1"},
		{"bad bdat size", []string{head, "BDAT x LAST\r\n", "QUIT\r\n"}, 0, 0, 1, "501 5.5.4"},
		{"data without recipients", []string{"EHLO c\r\nMAIL FROM:<l@x>\r\nDATA\r\n", "QUIT\r\n"}, 0, 0, 1, "503 5.5.1"},
		{"rcpt before mail", []string{"EHLO c\r\nRCPT TO:<a@y>\r\n", "QUIT\r\n"}, 0, 0, 1, "503 5.5.1 MAIL first"},
		{"second mail", []string{head + "MAIL FROM:<l@x>\r\n", "QUIT\r\n"}, 0, 0, 1, "503 5.5.1 MAIL already"},
		{"rset ends the transaction", []string{head + "RSET\r\nDATA\r\n", "QUIT\r\n"}, 0, 0, 1, "503"},
		{"unknown command", []string{"EHLO c\r\nVRFY a\r\n", "QUIT\r\n"}, 0, 0, 1, "500 5.5.2"},
		{"client gone mid-message", []string{head, "DATA\r\n", "abc\r\n"}, 0, 0, 0, "354"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounts(false)
			replies := talk(t, c, tc.chunks...)
			if !strings.Contains(replies, tc.wantReply) {
				t.Errorf("replies %q lack %q", replies, tc.wantReply)
			}
			if got := c.messages.Load(); got != tc.messages {
				t.Errorf("messages %d, want %d (replies %q)", got, tc.messages, replies)
			}
			if got := c.bytes.Load(); got != tc.bytes {
				t.Errorf("bytes %d, want %d", got, tc.bytes)
			}
			if got := c.bad.Load(); got != tc.bad {
				t.Errorf("bad %d, want %d (replies %q)", got, tc.bad, replies)
			}
		})
	}
}

// TestSinkTakesMTAClient sends with the outgoing runner's SMTP client, over
// DATA and BDAT, pipelined and not, messages whose terminator or chunk
// ends land anywhere in the sink's reads, and checks the counts per
// recipient.
func TestSinkTakesMTAClient(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	c := newCounts(false)
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			go serve(c, conn)
		}
	}()
	body := []byte("Subject: x\n\n" + strings.Repeat(".a line that starts with a dot\n", 20000)) // > bufSize
	var want int64
	for _, tc := range []struct{ noChunking, noPipelining bool }{{true, true}, {true, false}, {false, true}, {false, false}} {
		cl := &mta.Client{Addr: ln.Addr().String(), NoChunking: tc.noChunking, NoPipelining: tc.noPipelining}
		s, err := cl.Open(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for i := range 3 {
			rcpts := []string{"a@y", "b@y"}[:1+i%2]
			res, err := s.Send("l@x", rcpts, body[:len(body)-i*7])
			if err != nil || len(res.Accepted) != len(rcpts) {
				t.Fatalf("%+v: send: %v, %+v", tc, err, res)
			}
			want += int64(len(rcpts))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.recipients.Load(); got != want {
		t.Errorf("recipients %d, want %d", got, want)
	}
	if n, dup := c.distinct(); n != 2 || dup != 2 {
		t.Errorf("distinct %d duplicated %d, want 2 and 2", n, dup)
	}
	if c.bad.Load() != 0 {
		t.Errorf("bad %d, want 0", c.bad.Load())
	}
}

// TestSinkSave checks -save: the first message sent with DATA is written
// as smtp-source -F sends a file (LF line ends, dot lines unstuffed), the
// message split across reads anywhere, and a second message does not
// replace it.
func TestSinkSave(t *testing.T) {
	const head = "EHLO c\r\nMAIL FROM:<l@x>\r\nRCPT TO:<a@y>\r\n"
	for _, tc := range []struct {
		name   string
		chunks []string
		want   string
	}{
		{"one read", []string{head, "DATA\r\n", "Subject: s\r\n\r\nline 1\r\n..dot\r\n.\r\n", "QUIT\r\n"}, "Subject: s\n\nline 1\n.dot\n"},
		{"split reads", []string{head, "DATA\r\n", "..a\r\nb", "c\r", "\n.", "\r\n", "QUIT\r\n"}, ".a\nbc\n"},
		{"the first of two", []string{head, "DATA\r\n", "first\r\n.\r\n", head[len("EHLO c\r\n"):], "DATA\r\n", "second\r\n.\r\n", "QUIT\r\n"}, "first\n"},
		{"empty", []string{head, "DATA\r\n", ".\r\n", "QUIT\r\n"}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCounts(false)
			c.saveTo = t.TempDir() + "/copy.eml"
			talk(t, c, tc.chunks...)
			got, err := os.ReadFile(c.saveTo)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("saved %q, want %q", got, tc.want)
			}
		})
	}
}
