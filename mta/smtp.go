// Package mta hands mail to the MTA over SMTP and writes the snippets that
// connect an MTA (Postfix, Exim) to deliver.
package mta

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/emersion/go-smtp"
)

// Client connects to the site's MTA.
type Client struct {
	Addr    string        // host:port
	Helo    string        // name sent in EHLO
	Timeout time.Duration // per command (default 2 minutes)
}

// Session is one SMTP connection, used for several transactions.
type Session struct {
	c *smtp.Client
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
	return &Session{c: sc}, nil
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
	w, err := s.c.Data()
	if err == nil {
		_, err = w.Write(data)
		if cerr := w.Close(); err == nil {
			err = cerr
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
