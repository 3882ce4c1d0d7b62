// Package mta hands mail to the MTA over SMTP and writes the snippets that
// connect an MTA (Postfix, Exim) to deliver.
package mta

import (
	"bufio"
	"context"
	"errors"
	"fmt"
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
	// NoPipelining waits for each reply even when the server offers
	// PIPELINING (RFC 2920).
	NoPipelining bool
}

// Session is one SMTP connection, used for several transactions. go-smtp's
// client greets the server and says goodbye; the transactions in between
// are written by this package (see transaction.go), so that a message goes
// out in a few large writes and the commands of a transaction in one.
type Session struct {
	c          *smtp.Client
	conn       net.Conn
	r          *bufio.Reader // replies to the commands this package writes
	chunking   bool          // the server offers CHUNKING (RFC 3030): send with BDAT
	pipelining bool          // the server offers PIPELINING (RFC 2920)
	eightBit   bool          // the server offers 8BITMIME
	timeout    time.Duration
	// open is the transaction a SendTxn announced as next and began: its
	// envelope answered, and its message owed unless it is done.
	open *txnState
}

// Chunking says whether the session sends messages with BDAT.
func (s *Session) Chunking() bool { return s.chunking }

// Pipelining says whether the session sends a transaction's commands
// without waiting for each reply.
func (s *Session) Pipelining() bool { return s.pipelining }

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
	pipelining, _ := sc.Extension("PIPELINING")
	eightBit, _ := sc.Extension("8BITMIME")
	return &Session{c: sc, conn: conn, r: bufio.NewReaderSize(conn, 4096), timeout: timeout,
		chunking: chunking && !c.NoChunking, pipelining: pipelining && !c.NoPipelining, eightBit: eightBit}, nil
}

// Close ends the session politely, or drops the connection while the
// server waits for the message of a transaction SendTxn began as next (it
// then takes nothing of it).
func (s *Session) Close() error {
	if o := s.open; o != nil && !o.done {
		s.open = nil
		return s.c.Close()
	}
	if err := s.c.Quit(); err != nil {
		return s.c.Close()
	}
	return nil
}

// Send runs one transaction. data may use LF line endings: they become CRLF
// on the wire, with dot-stuffing under DATA. A refusal of one recipient
// does not abort the others. err is set when the transaction as a whole
// failed in a way that leaves every recipient's fate unknown (connection
// lost): they are all reported temporary in that case. Send keeps nothing
// of data once it returns.
func (s *Session) Send(from string, to []string, data []byte) (Result, error) {
	return s.SendParts(from, to, NewPart(data))
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
		if len(line) < 3 {
			return 0, "", fmt.Errorf("short reply %q", line)
		}
		if code = replyCode(line); code < 200 || code > 599 {
			return 0, "", fmt.Errorf("bad reply %q", line)
		}
		if len(line) == 3 {
			lines = append(lines, "")
			return code, strings.Join(lines, " "), nil
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

// replyCode returns the three digits that start an SMTP reply line as a
// number, or -1 when they are not three digits.
func replyCode(line string) int {
	code := 0
	for _, c := range []byte(line[:3]) {
		if c < '0' || c > '9' {
			return -1
		}
		code = code*10 + int(c-'0')
	}
	return code
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
