// Package mta hands mail to the MTA over SMTP and writes the snippets that
// connect an MTA (Postfix, Exim) to deliver.
package mta

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"time"

	"github.com/emersion/go-smtp"
)

// Client connects to the site's MTA.
type Client struct {
	Addr    string        // host:port
	Helo    string        // name sent in EHLO
	Timeout time.Duration // per command (default 2 minutes)
	// NoChunking sends with DATA even when the server offers BDAT.
	NoChunking bool
}

// Session is one SMTP connection, used for several transactions.
type Session struct {
	c        *smtp.Client
	conn     net.Conn
	chunking bool // the server offers CHUNKING (RFC 3030): send with BDAT
	timeout  time.Duration
}

// Result is what the MTA said about each recipient of a transaction.
type Result struct {
	Accepted []string
	Temp     map[string]string // recipient -> 4xx reply (try again later)
	Perm     map[string]string // recipient -> 5xx reply (give up)
}

// Open connects and greets the MTA. A connection failure is temporary.
func (c *Client) Open(ctx context.Context) (*Session, error) {
	timeout := c.Timeout
	if timeout == 0 {
		timeout = 2 * time.Minute
	}
	d := net.Dialer{Timeout: 30 * time.Second}
	conn, err := d.DialContext(ctx, "tcp", c.Addr)
	if err != nil {
		return nil, fmt.Errorf("connect to MTA %s: %w", c.Addr, err)
	}
	sc := smtp.NewClient(conn)
	sc.CommandTimeout = timeout
	sc.SubmissionTimeout = timeout
	helo := c.Helo
	if helo == "" {
		helo = "localhost"
	}
	if err := sc.Hello(helo); err != nil {
		sc.Close()
		return nil, fmt.Errorf("greet MTA %s: %w", c.Addr, err)
	}
	chunking, _ := sc.Extension("CHUNKING")
	return &Session{c: sc, conn: conn, chunking: chunking && !c.NoChunking, timeout: timeout}, nil
}

// Close ends the session politely.
func (s *Session) Close() error {
	if err := s.c.Quit(); err != nil {
		return s.c.Close()
	}
	return nil
}

// Send runs one transaction. data may use LF line endings: the SMTP client
// writes CRLF and dot-stuffs on the wire. A refusal of one recipient does not abort the
// others. err is set when the transaction as a whole failed in a way that
// leaves every recipient's fate unknown (connection lost): they are all
// reported temporary in that case.
func (s *Session) Send(from string, to []string, data []byte) (Result, error) {
	res := Result{Temp: map[string]string{}, Perm: map[string]string{}}
	allTemp := func(reason string) {
		for _, r := range to {
			res.Temp[r] = reason
		}
		res.Accepted = nil
	}
	if err := s.c.Mail(from, nil); err != nil {
		if perm, reply := classify(err); perm {
			for _, r := range to {
				res.Perm[r] = reply
			}
			s.c.Reset()
			return res, nil
		}
		allTemp(err.Error())
		return res, fmt.Errorf("MAIL FROM: %w", err)
	}
	for _, r := range to {
		if err := s.c.Rcpt(r, nil); err != nil {
			var se *smtp.SMTPError
			if !errors.As(err, &se) {
				allTemp(err.Error())
				return res, fmt.Errorf("RCPT TO: %w", err)
			}
			if perm, reply := classify(err); perm {
				res.Perm[r] = reply
			} else {
				res.Temp[r] = reply
			}
			continue
		}
		res.Accepted = append(res.Accepted, r)
	}
	if len(res.Accepted) == 0 {
		s.c.Reset()
		return res, nil
	}
	var err error
	if s.chunking {
		err = s.bdat(data)
	} else {
		var w io.WriteCloser
		w, err = s.c.Data()
		if err == nil {
			_, err = w.Write(data)
			if cerr := w.Close(); err == nil {
				err = cerr
			}
		}
	}
	if err != nil {
		var se *smtp.SMTPError
		perm, reply := classify(err)
		for _, r := range res.Accepted {
			if perm {
				res.Perm[r] = reply
			} else {
				res.Temp[r] = reply
			}
		}
		res.Accepted = nil
		if !errors.As(err, &se) {
			return res, fmt.Errorf("DATA: %w", err)
		}
	}
	return res, nil
}

// classify says whether an SMTP error is permanent (5xx) and gives its reply text.
func classify(err error) (perm bool, reply string) {
	var se *smtp.SMTPError
	if errors.As(err, &se) {
		return se.Code >= 500, fmt.Sprintf("%d %s", se.Code, se.Message)
	}
	return false, err.Error()
}

// bdat sends the message in one BDAT LAST chunk (RFC 3030) on the session's
// connection: no dot-stuffing, no line-by-line scanning on either side, which
// matters when one post becomes thousands of copies. go-smtp's client has
// consumed every reply before this point, so nothing is left in its buffer.
func (s *Session) bdat(data []byte) error {
	msg := crlf(data)
	s.conn.SetDeadline(time.Now().Add(s.timeout))
	defer s.conn.SetDeadline(time.Time{})
	// Command and chunk in one write: separate small writes stall on Nagle's
	// algorithm against the peer's delayed ACK, once per copy.
	bufs := net.Buffers{[]byte(fmt.Sprintf("BDAT %d LAST\r\n", len(msg))), msg}
	if _, err := bufs.WriteTo(s.conn); err != nil { // one writev, no copy
		return err
	}
	code, text, err := readReply(bufio.NewReaderSize(s.conn, 512))
	if err != nil {
		return err
	}
	if code/100 != 2 {
		return &smtp.SMTPError{Code: code, Message: text}
	}
	return nil
}

// readReply reads one (possibly multi-line) SMTP reply. The server sends
// nothing after a reply until the next command, so a buffered reader over the
// connection consumes nothing that go-smtp's own reader would need.
func readReply(r *bufio.Reader) (int, string, error) {
	var lines []string
	var code int
	for {
		line, err := readLine(r)
		if err != nil {
			return 0, "", fmt.Errorf("read reply: %w", err)
		}
		if len(line) < 4 {
			return 0, "", fmt.Errorf("short reply %q", line)
		}
		if _, err := fmt.Sscanf(line[:3], "%d", &code); err != nil {
			return 0, "", fmt.Errorf("bad reply %q", line)
		}
		lines = append(lines, line[4:])
		if line[3] != '-' {
			return code, strings.Join(lines, " "), nil
		}
		if len(lines) > 100 {
			return 0, "", errors.New("reply too long")
		}
	}
}

func readLine(r *bufio.Reader) (string, error) {
	line, err := r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		return "", errors.New("reply line too long")
	}
	if err != nil {
		return "", err
	}
	return strings.TrimRight(string(line), "\r\n"), nil
}

// crlf returns data with every bare LF turned into CRLF (the canonical form
// BDAT carries as is).
func crlf(data []byte) []byte {
	bare := false
	for i := bytes.IndexByte(data, '\n'); i >= 0; {
		if i == 0 || data[i-1] != '\r' {
			bare = true
			break
		}
		j := bytes.IndexByte(data[i+1:], '\n')
		if j < 0 {
			break
		}
		i += j + 1
	}
	if !bare {
		return data
	}
	out := make([]byte, 0, len(data)+len(data)/32)
	for len(data) > 0 {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return append(out, data...)
		}
		if i == 0 || data[i-1] != '\r' {
			out = append(out, data[:i]...)
			out = append(out, '\r', '\n')
		} else {
			out = append(out, data[:i+1]...)
		}
		data = data[i+1:]
	}
	return out
}
