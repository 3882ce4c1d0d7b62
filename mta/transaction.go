package mta

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// pipelineGroup bounds the commands written before their replies are read
// under PIPELINING: a server that answers each command before reading the
// next can fill the socket buffers with replies nobody reads while the
// client is still writing; a hundred short replies fit in any buffer.
const pipelineGroup = 100

// SendParts runs one transaction whose message is the concatenation of
// parts. Parts keep their wire form (see Part), so parts shared by many
// copies are encoded once. Results and errors are as for Send.
//
// With PIPELINING (RFC 2920) MAIL, the RCPTs and DATA go out in one write
// (BDAT with the message itself when the server offers CHUNKING), and the
// replies are read after it; without, each command waits for its reply.
// Either way the message is written in large spans: the commands of a
// group, the message and its terminating line in one writev.
func (s *Session) SendParts(from string, to []string, parts ...*Part) (Result, error) {
	res := Result{Temp: map[string]string{}, Perm: map[string]string{}}
	allTemp := func(reason string) {
		for _, r := range to {
			if _, perm := res.Perm[r]; !perm {
				res.Temp[r] = reason
			}
		}
		res.Accepted = nil
	}
	if strings.ContainsAny(from, "\r\n") {
		allTemp("envelope sender has a line break")
		return res, fmt.Errorf("MAIL FROM: envelope sender %q has a line break", from)
	}
	var rcpts []string
	for _, r := range to {
		if strings.ContainsAny(r, "\r\n") {
			res.Perm[r] = "invalid address: it has a line break"
			continue
		}
		rcpts = append(rcpts, r)
	}
	if len(rcpts) == 0 {
		return res, nil
	}

	s.conn.SetDeadline(time.Now().Add(s.timeout))
	defer s.conn.SetDeadline(time.Time{})

	// cmds[0] is MAIL, cmds[1:] the RCPTs; final is DATA, or BDAT and the message.
	cmds := make([][]byte, 0, len(rcpts)+1)
	mail := "MAIL FROM:<" + from + ">"
	if s.eightBit {
		mail += " BODY=8BITMIME"
	}
	cmds = append(cmds, []byte(mail+"\r\n"))
	for _, r := range rcpts {
		cmds = append(cmds, []byte("RCPT TO:<"+r+">\r\n"))
	}
	var final []span
	if s.chunking {
		spans, n := bdatSpans(parts)
		final = append([]span{{b: fmt.Appendf(nil, "BDAT %d LAST\r\n", n)}}, spans...)
	} else {
		final = []span{{b: []byte("DATA\r\n")}}
	}
	group := 1
	if s.pipelining {
		group = pipelineGroup
	}

	var mailFailed bool
	var mailReply string
	var mailPerm bool
	ioErr := func(what string, err error) (Result, error) { return s.lost(&res, rcpts, what, err) }
	next := 0 // index into cmds of the next command to write
	for next < len(cmds) {
		n := min(group, len(cmds)-next)
		bufs := make([]span, 0, n+len(final))
		for _, c := range cmds[next : next+n] {
			bufs = append(bufs, span{b: c})
		}
		withFinal := s.pipelining && next+n == len(cmds)
		if withFinal {
			bufs = append(bufs, final...)
		}
		if err := s.writeSpans(bufs); err != nil {
			return ioErr("write commands", err)
		}
		for i := next; i < next+n; i++ {
			code, text, err := readReply(s.r)
			if err != nil {
				return ioErr("read reply", err)
			}
			reply := fmt.Sprintf("%d %s", code, text)
			switch {
			case i == 0:
				if code/100 != 2 {
					mailFailed, mailReply, mailPerm = true, reply, code >= 500
				}
			case mailFailed:
				// RCPTs after a refused MAIL are refused for that reason.
			case code/100 == 2:
				res.Accepted = append(res.Accepted, rcpts[i-1])
			case code >= 500:
				res.Perm[rcpts[i-1]] = reply
			default:
				res.Temp[rcpts[i-1]] = reply
			}
		}
		next += n
		if mailFailed && !withFinal {
			break // nothing more is sent for a refused MAIL
		}
		if withFinal {
			return s.finish(&res, rcpts, parts, mailFailed, mailReply, mailPerm)
		}
	}
	if mailFailed {
		return s.mailRefused(&res, rcpts, mailReply, mailPerm)
	}
	if len(res.Accepted) == 0 {
		return res, s.reset()
	}
	if err := s.writeSpans(final); err != nil {
		return ioErr("write "+s.verb(), err)
	}
	return s.finish(&res, rcpts, parts, false, "", false)
}

// verb names the command that carries the message.
func (s *Session) verb() string {
	if s.chunking {
		return "BDAT"
	}
	return "DATA"
}

// finish reads the reply to DATA or BDAT (already written), sends the
// message after a 354, and settles the accepted recipients' fate.
func (s *Session) finish(res *Result, rcpts []string, parts []*Part, mailFailed bool, mailReply string, mailPerm bool) (Result, error) {
	code, text, err := readReply(s.r)
	if err != nil {
		return s.lost(res, rcpts, "read "+s.verb()+" reply", err)
	}
	if mailFailed {
		if code == 354 { // a server that should have refused DATA: end it empty
			if err := s.write([][]byte{[]byte(".\r\n")}); err != nil {
				return s.lost(res, rcpts, "write DATA", err)
			}
			if _, _, err := readReply(s.r); err != nil {
				return s.lost(res, rcpts, "read DATA reply", err)
			}
		}
		return s.mailRefused(res, rcpts, mailReply, mailPerm)
	}
	if !s.chunking && code == 354 {
		if len(res.Accepted) == 0 { // as above: nobody to send it to
			if err := s.write([][]byte{[]byte(".\r\n")}); err != nil {
				return s.lost(res, rcpts, "write DATA", err)
			}
			if _, _, err := readReply(s.r); err != nil {
				return s.lost(res, rcpts, "read DATA reply", err)
			}
			return *res, s.reset()
		}
		if err := s.writeSpans(dataSpans(parts)); err != nil {
			return s.lost(res, rcpts, "write message", err)
		}
		if code, text, err = readReply(s.r); err != nil {
			return s.lost(res, rcpts, "read DATA reply", err)
		}
		s.settle(res, code, text)
		return *res, nil
	}
	if len(res.Accepted) == 0 {
		return *res, s.reset()
	}
	s.settle(res, code, text)
	if code/100 != 2 {
		return *res, s.reset() // DATA refused, or BDAT: the transaction is left open
	}
	return *res, nil
}

// settle gives the accepted recipients the fate of the message's final reply.
func (s *Session) settle(res *Result, code int, text string) {
	if code/100 == 2 {
		return
	}
	reply := fmt.Sprintf("%d %s", code, text)
	for _, r := range res.Accepted {
		if code >= 500 {
			res.Perm[r] = reply
		} else {
			res.Temp[r] = reply
		}
	}
	res.Accepted = nil
}

// mailRefused settles a transaction whose MAIL was refused: every recipient
// shares its fate. A temporary refusal ends the session's use (as a lost
// connection does); a permanent one only this transaction.
func (s *Session) mailRefused(res *Result, rcpts []string, reply string, perm bool) (Result, error) {
	res.Accepted = nil
	for _, r := range rcpts {
		delete(res.Temp, r)
		delete(res.Perm, r)
		if perm {
			res.Perm[r] = reply
		} else {
			res.Temp[r] = reply
		}
	}
	rerr := s.reset()
	if !perm {
		return *res, fmt.Errorf("MAIL FROM: %s", reply)
	}
	return *res, rerr
}

// lost reports every recipient not refused for good as temporary after the
// connection failed mid-transaction.
func (s *Session) lost(res *Result, rcpts []string, what string, err error) (Result, error) {
	for _, r := range rcpts {
		if _, perm := res.Perm[r]; !perm {
			res.Temp[r] = err.Error()
		}
	}
	res.Accepted = nil
	return *res, fmt.Errorf("%s: %w", what, err)
}

// writeSpans writes spans to the connection. When a wire part fails, the
// message on the wire is not the one meant: the connection is closed, so
// that the server drops the transaction instead of taking what it got (or
// reading the next command as the rest of a BDAT chunk).
func (s *Session) writeSpans(spans []span) error {
	err := writeSpans(s.conn, spans)
	var pe *partError
	if errors.As(err, &pe) {
		s.conn.Close()
	}
	return err
}

// write writes spans in one writev.
func (s *Session) write(spans [][]byte) error {
	bufs := net.Buffers(spans)
	_, err := bufs.WriteTo(s.conn)
	return err
}

// reset ends a transaction that did not deliver (RSET). An error means the
// connection is no longer usable.
func (s *Session) reset() error {
	if err := s.write([][]byte{[]byte("RSET\r\n")}); err != nil {
		return fmt.Errorf("RSET: %w", err)
	}
	code, text, err := readReply(s.r)
	if err != nil {
		return fmt.Errorf("RSET: %w", err)
	}
	if code/100 != 2 {
		return fmt.Errorf("RSET: %d %s", code, text)
	}
	return nil
}
